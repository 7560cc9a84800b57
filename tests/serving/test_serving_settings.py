"""What `serve` hosts and where production's data lives, from settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pesabox.serving.environments import environment_settings
from pesabox.serving.listeners import Listener, plan_listeners
from pesabox.settings import Settings, derived_production_url

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///./pesabox.db", "sqlite:///./pesabox.production.db"),
        ("sqlite:////var/lib/pesabox/data.sqlite", "sqlite:////var/lib/pesabox/data.production.sqlite"),
        ("sqlite:////tmp/a.b/pesabox", "sqlite:////tmp/a.b/pesabox.production.db"),
        (PG, f"{PG}?options=-csearch_path%3Dproduction"),
        (f"{PG}?options=-csearch_path%3Dpublic", f"{PG}?options=-csearch_path%3Dproduction"),
        (f"{PG}?options=-csearch_path%3Dt_1", f"{PG}?options=-csearch_path%3Dt_1_production"),
        (
            f"{PG}?connect_timeout=5&options=-cstatement_timeout%3D1000",
            f"{PG}?connect_timeout=5&options=-cstatement_timeout%3D1000%20-csearch_path%3Dproduction",
        ),
    ],
)  # fmt: skip
def test_productions_database_is_derived_from_the_platforms(url: str, expected: str) -> None:
    assert derived_production_url(url) == expected


def test_a_production_database_url_given_wins() -> None:
    settings = Settings(production_database_url="postgres://db.example/prod")
    assert settings.production_url() == "postgresql+psycopg://db.example/prod"


def test_an_in_memory_sqlite_database_has_no_production_sibling() -> None:
    with pytest.raises(ValueError, match="in-memory"):
        Settings(database_url="sqlite:///:memory:").production_url()


@pytest.mark.parametrize(
    ("given", "served"),
    [
        ("sandbox", ("sandbox",)),
        ("production", ("production",)),
        (" production , sandbox ", ("sandbox", "production")),
    ],
)
def test_environments(given: str, served: tuple[str, ...]) -> None:
    assert Settings(environments=given).served_environments == served


def test_a_production_process_serves_production_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `PESABOX_ENVIRONMENT=production pesabox serve`, as before a process could serve both.
    monkeypatch.setenv("PESABOX_ENVIRONMENT", "production")
    monkeypatch.delenv("PESABOX_ENVIRONMENTS", raising=False)
    assert Settings().served_environments == ("production",)
    monkeypatch.setenv("PESABOX_ENVIRONMENTS", "sandbox")
    assert Settings().served_environments == ("sandbox",)
    assert Settings(environments="sandbox,production").served_environments == (
        "sandbox",
        "production",
    )


def test_a_sandbox_process_serves_the_sandbox_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PESABOX_ENVIRONMENT", raising=False)
    monkeypatch.delenv("PESABOX_ENVIRONMENTS", raising=False)
    assert Settings().served_environments == ("sandbox",)


@pytest.mark.parametrize("given", ["", "prod", "sandbox,staging"])
def test_unknown_environments_are_refused(given: str) -> None:
    with pytest.raises(ValidationError, match="sandbox and/or production"):
        Settings(environments=given)


def test_by_default_serve_hosts_the_sandbox_on_http_and_https() -> None:
    assert plan_listeners(Settings()) == [
        Listener("sandbox", "http", "127.0.0.1", 8000),
        Listener("sandbox", "https", "127.0.0.1", 8443),
    ]


def test_both_environments_and_no_sandbox_https(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PESABOX_HTTPS_PORT", "off")
    settings = Settings(environments="sandbox,production", host="0.0.0.0")
    assert plan_listeners(settings) == [
        Listener("sandbox", "http", "0.0.0.0", 8000),
        Listener("production", "https", "0.0.0.0", 9443),
        Listener("production", "mtls", "0.0.0.0", 9444),
    ]


def test_two_listeners_cannot_share_a_port() -> None:
    with pytest.raises(ValueError, match="share port 9443"):
        plan_listeners(Settings(environments="production", production_mtls_port=9443))


def test_listener_urls() -> None:
    assert Listener("production", "mtls", "::1", 9444).url == "https://[::1]:9444"
    assert Listener("sandbox", "http", "127.0.0.1", 8000).describe() == (
        "sandbox http: http://127.0.0.1:8000 (plain http)"
    )


def test_tls_hostnames() -> None:
    settings = Settings(tls_hostnames=" gateway.example , 10.0.0.5,")
    assert settings.tls_hostname_list() == ["gateway.example", "10.0.0.5"]


def test_each_environment_has_its_own_database_and_request_log() -> None:
    settings = Settings(
        database_url="sqlite:////srv/pesabox.db",
        environments="sandbox,production",
        inspector_database_url="sqlite:////srv/log.db",
    )
    sandbox = environment_settings(settings, "sandbox")
    production = environment_settings(settings, "production")
    assert (sandbox.environment, sandbox.database_url) == ("sandbox", "sqlite:////srv/pesabox.db")
    assert sandbox.inspector_database_url == "sqlite:////srv/log.db"
    assert production.environment == "production"
    assert production.database_url == "sqlite:////srv/pesabox.production.db"
    assert production.inspector_database_url is None
