"""The served environments: one Platform and one ASGI app each, on its own database.

The platform database (PESABOX_DATABASE_URL) is the sandbox's, and holds what both share
(the CA, developers, onboarding); production's data lives in PESABOX_PRODUCTION_DATABASE_URL.
`Platform(settings)` serves `settings.environment` on `settings.database_url`, so each
environment's Platform gets a copy of the settings that says which one it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pesabox.api.app import create_app
from pesabox.api.fastpath import FastPaths
from pesabox.api.routes.certificates import stored_certificate
from pesabox.callbacks.tls import load_callback_tls
from pesabox.core.onboarding_services import onboarding_services
from pesabox.core.platform import Platform
from pesabox.security.web_secret import web_secret
from pesabox.settings import Settings
from pesabox.storage.db import make_engine
from pesabox.storage.migrate import upgrade_to_head

__all__ = ["ServedEnvironment", "build_environments", "environment_settings", "prepare_databases"]

Environment = Literal["sandbox", "production"]


@dataclass(frozen=True, slots=True)
class ServedEnvironment:
    name: Environment
    platform: Platform
    app: FastPaths


def environment_settings(settings: Settings, environment: Environment) -> Settings:
    """The settings of `environment`'s Platform: its name, and its database."""
    if environment == "sandbox":
        return settings.model_copy(update={"environment": "sandbox"})
    return settings.model_copy(
        update={
            "environment": "production",
            "database_url": settings.production_url(),
            # PESABOX_INSPECTOR_DATABASE_URL is the sandbox's log; production's (when
            # recorded at all) goes beside production's own database.
            "inspector_database_url": None,
        }
    )


def prepare_databases(settings: Settings) -> None:
    """Upgrade every database `serve` uses to the newest schema (a PostgreSQL schema named
    by the URL's search_path is created first)."""
    for url in settings.database_urls():
        engine = make_engine(url)
        try:
            upgrade_to_head(engine)
        finally:
            engine.dispose()


def build_environments(settings: Settings) -> dict[Environment, ServedEnvironment]:
    """A Platform and an app per served environment (built in each serving process; the CA
    must already exist: `tls.load_tls_material` makes it)."""
    platforms: dict[Environment, Platform] = {}
    platform_engine = make_engine(settings.database_url, pool_size=1)
    try:
        for name in settings.served_environments:
            # Callbacks present the environment's broker certificate (callbacks/tls.py).
            tls = load_callback_tls(platform_engine, environment=name, settings=settings)
            platforms[name] = Platform(environment_settings(settings, name), callback_tls=tls)
        # A browser sends the CSRF cookie to every port of a host, so both environments'
        # pages sign their tokens with the one secret, the platform database's.
        secret = web_secret(settings, platform_engine)
    finally:
        platform_engine.dispose()
    served: dict[Environment, ServedEnvironment] = {}
    production = platforms.get("production")
    sandbox = platforms.get("sandbox")
    # Onboarding needs both: developers and CRQs in the platform database, businesses set up
    # in production's. Both apps share the one service (the org portal's CRQs are on either).
    onboarding = (
        onboarding_services(sandbox, production)
        if sandbox is not None and production is not None
        else None
    )
    for name, platform in platforms.items():
        # Beside production, the sandbox's production.cer is production's own certificate.
        certificate = (
            stored_certificate(production, "production")
            if name == "sandbox" and production is not None
            else None
        )
        app = create_app(
            platform.settings,
            platform=platform,
            production_certificate=certificate,
            onboarding=onboarding,
            web_secret=secret,
        )
        served[name] = ServedEnvironment(name, platform, app)
    return served
