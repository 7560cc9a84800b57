"""Settings, read from `PESABOX_*` environment variables (no import-time globals)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENVIRONMENT_NAMES: tuple[Literal["sandbox", "production"], ...] = ("sandbox", "production")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PESABOX_", extra="ignore")

    database_url: str = "sqlite:///./pesabox.db"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    # The one environment of a single-environment process: `create_app` and the CLI.
    environment: Literal["sandbox", "production"] = "sandbox"

    # What `pesabox serve` hosts: "sandbox", "production" or "sandbox,production". Each
    # environment has its own Platform and database (docs/reference/transport.md).
    environments: str = "sandbox"
    # The production environment's database. Unset: beside the platform database, SQLite
    # `<stem>.production.db`, or on PostgreSQL the same URL with the schema `production`
    # (see `production_url`).
    production_database_url: str | None = None
    # Listeners (`port` above is the sandbox's plain http). The sandbox's https listener
    # (1-way TLS) is left out when `https_port` is "off"; production has no plain listener:
    # 1-way TLS for OAuth, STK and pages, mutual TLS for every API. Port 0: any free port
    # (`serve` prints the one it got).
    https_port: int | None = 8443
    production_port: int = 9443
    production_mtls_port: int = 9444
    # Extra names (DNS or IP) the broker certificates carry besides localhost, 127.0.0.1, ::1.
    tls_hostnames: str = ""

    # How long the simulated customer takes to answer a prompt by default.
    customer_delay_s: float = 0.0
    # How long an unanswered STK prompt stays on the handset before it gives up (1037).
    stk_prompt_timeout_s: float = 60.0
    # How long a business has to answer a C2B validation request (M-Pesa allows about 8 s)
    # before the registration's ResponseType decides.
    c2b_validation_timeout_s: float = 8.0
    # Initiator APIs (B2C, B2B, balance, status, reversal). `lenient` accepts any well-formed
    # SecurityCredential without decrypting it, for clients that only ship Safaricom's
    # certificate; the initiator must still exist, be unlocked and hold the role.
    initiator_credential_check: Literal["strict", "lenient"] = "strict"
    operator_password_max_age_days: int = 90
    operator_lockout_threshold: int = 5
    # A request still queued this long after it was accepted goes to its QueueTimeOutURL.
    initiator_queue_timeout_s: float = 30.0
    # Signs the web pages' CSRF tokens. Unset: a random secret kept in the database, shared
    # by every process that uses it.
    web_secret: SecretStr | None = None
    # The pages' cookies carry `Secure`. Browsers honour it on http://127.0.0.1 and
    # http://localhost as well as on https; only a plain-http client library needs it off.
    web_cookie_secure: bool = True
    # An org portal session lasts this long from sign-in, on wall time (not the sandbox clock).
    portal_session_lifetime_s: float = 8 * 3600.0
    # A Lipa na M-Pesa Online application is decided no earlier than this many days after
    # it was sent, on the platform clock (the sandbox clock the /ui/clock page moves).
    lnmo_review_days: int = 7
    # Who businesses call about going live and their APIs (Safaricom's API support line and
    # mailbox, as its FAQ gives them); shown on the org portal and the developer portal.
    support_phone: str = "0722002222"
    support_email: str = "apisupport@pesabox.example"
    # How long a client certificate the platform CA signs for a certificate CRQ is valid.
    client_cert_validity_days: int = Field(default=365, ge=1, le=3650)
    # Daraja's tokens live an hour; the reply says one second less ("3599").
    access_token_lifetime_s: int = 3600

    # Bonga (issue 5): points earned per KES 100 of a customer's M-PESA transaction (whole
    # points, fractions dropped; 0 turns earning off). Safaricom publishes 1 point per KES 10
    # for airtime, SMS and data; its M-PESA rate is unknown, so the same rate is the default.
    bonga_points_per_100_kes: int = 10
    # Wrong Bonga PINs in a row that lock it until it is set again at *126*5#.
    bonga_pin_lockout_threshold: int = 3
    # Wrong M-PESA PINs in a row that lock the customer's PIN (payments fail until unlocked).
    mpesa_pin_lockout_threshold: int = 3

    # "https://shop.example=>http://127.0.0.1:5000" rules, separated by commas.
    callback_rewrite: str = ""
    callback_timeout_s: float = 10.0
    callback_max_attempts: int = 6
    callback_backoff_base_s: float = 1.0
    callback_backoff_cap_s: float = 300.0
    callback_concurrency: int = 64
    # A PEM file of extra CAs to trust for businesses' https callback listeners, besides the
    # system's and the platform CA (always trusted).
    callback_ca_file: str | None = None

    # Group commit: how many queued writes one database transaction may hold.
    writer_batch_max: int = 512
    # How often the background loops look for due work that another process wrote.
    poll_interval_s: float = 0.2
    # Run the callback worker and timers inside `serve` (off when a separate `worker` runs).
    run_background: bool = True

    log_level: str = "info"
    max_body_bytes: int = 64 * 1024

    # The inspector (/ui/inspector) records every inbound API request, in memory first and in
    # batches to the database, keeping the newest `inspector_retention` rows. Unset: on in the
    # sandbox, whose page shows the log, and off in production, where no page does and the
    # recording would only cost throughput and keep customers' numbers.
    inspector_record: bool | None = None
    inspector_retention: int = 20_000
    # SQLite only: the log's own database file (default `<main file>.inspector.db`), kept out
    # of the ledger's WAL and written without fsync (storage/inspector_db.py).
    inspector_database_url: str | None = None

    @field_validator("database_url")
    @classmethod
    def _normalise_postgres(cls, value: str) -> str:
        return _normalise_postgres_url(value)

    @field_validator("environments")
    @classmethod
    def _known_environments(cls, value: str) -> str:
        names = [name.strip() for name in value.split(",") if name.strip()]
        unknown = sorted(set(names) - set(ENVIRONMENT_NAMES))
        if not names or unknown:
            raise ValueError(f"environments must name sandbox and/or production, not {value!r}")
        return ",".join(name for name in ENVIRONMENT_NAMES if name in names)

    @field_validator("https_port", mode="before")
    @classmethod
    def _port_or_off(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in {"", "off", "none"}:
            return None
        return value

    @property
    def served_environments(self) -> tuple[Literal["sandbox", "production"], ...]:
        """The environments `serve` hosts, sandbox first. PESABOX_ENVIRONMENTS unset, a
        PESABOX_ENVIRONMENT=production process serves production, as it did before a process
        could serve both."""
        if "environments" not in self.model_fields_set and self.environment == "production":
            return ("production",)
        names = self.environments.split(",")
        return tuple(name for name in ENVIRONMENT_NAMES if name in names)

    def database_urls(self) -> list[str]:
        """Every database the served environments use: the platform database always (it
        holds the CA even when only production is served), and production's when served."""
        urls = [self.database_url]
        if "production" in self.served_environments:
            urls.append(self.production_url())
        return urls

    def production_url(self) -> str:
        """The production environment's database URL (set, or derived from `database_url`)."""
        if self.production_database_url:
            return _normalise_postgres_url(self.production_database_url)
        return derived_production_url(self.database_url)

    def tls_hostname_list(self) -> list[str]:
        return [name.strip() for name in self.tls_hostnames.split(",") if name.strip()]

    @property
    def records_requests(self) -> bool:
        """Whether this process keeps the inspector's request log."""
        if self.inspector_record is None:
            return self.environment == "sandbox"
        return self.inspector_record

    def rewrite_rules(self) -> list[tuple[str, str]]:
        rules = []
        for raw in self.callback_rewrite.split(","):
            if "=>" in raw:
                source, target = raw.split("=>", 1)
                rules.append((source.strip(), target.strip()))
        return rules


def _normalise_postgres_url(value: str) -> str:
    # psycopg 3 is the one PostgreSQL driver; accept the short URL forms people paste.
    for prefix in ("postgres://", "postgresql://"):
        if value.startswith(prefix):
            return "postgresql+psycopg://" + value[len(prefix) :]
    return value


def derived_production_url(database_url: str) -> str:
    """Production's database beside the platform's: SQLite `<stem>.production.db`; on
    PostgreSQL the same server and database in the schema `production`, or `<schema>_production`
    when the URL already names a schema other than public (a test's own schema, say)."""
    if database_url.startswith("sqlite"):
        prefix, _, path = database_url.partition(":///")
        if not path or path == ":memory:":
            raise ValueError("an in-memory SQLite database has no production sibling")
        stem, dot, suffix = path.rpartition(".")
        if not dot or "/" in suffix:
            return f"{prefix}:///{path}.production.db"
        return f"{prefix}:///{stem}.production.{suffix}"
    parts = urlsplit(database_url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    options = [value for name, value in query if name == "options"]
    schema = _search_path(options[0]) if options else None
    production = "production" if schema in (None, "public") else f"{schema}_production"
    rest = [(name, value) for name, value in query if name != "options"]
    others = _without_search_path(options[0]) if options else ""
    rest.append(("options", f"{others} -csearch_path={production}".strip()))
    return urlunsplit(parts._replace(query=urlencode(rest, quote_via=quote)))


def _search_path(options: str) -> str | None:
    for option in options.split():
        for prefix in ("-csearch_path=", "--search_path="):
            if option.startswith(prefix):
                return option[len(prefix) :].split(",")[0].strip()
    return None


def _without_search_path(options: str) -> str:
    kept = [o for o in options.split() if not o.startswith(("-csearch_path=", "--search_path="))]
    return " ".join(kept)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
