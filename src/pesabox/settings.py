"""Settings, read from `PESABOX_*` environment variables (no import-time globals)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PESABOX_", extra="ignore")

    database_url: str = "sqlite:///./pesabox.db"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    environment: Literal["sandbox", "production"] = "sandbox"

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
        # psycopg 3 is the one PostgreSQL driver; accept the short URL forms people paste.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
