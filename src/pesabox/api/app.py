"""The ASGI app: Daraja's routes under Daraja's paths, the sandbox under /sandbox/v1."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, MediaType, get
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig

from pesabox import __version__
from pesabox.api.fastpath import FastPaths
from pesabox.api.handlers import http_error_handler, pesa_error_handler, unexpected_error_handler
from pesabox.api.request_log import recorder_for
from pesabox.api.routes.bank_accounts import bank_accounts_router
from pesabox.api.routes.c2b_sandbox import c2b_sandbox_router
from pesabox.api.routes.certificates import (
    PRODUCTION_CERTIFICATE_STATE,
    CertificateSource,
    certificates_router,
)
from pesabox.api.routes.change_requests import change_requests_router
from pesabox.api.routes.handset_menu import handset_menu_router
from pesabox.api.routes.oauth import generate_token
from pesabox.api.routes.onboarding import onboarding_router
from pesabox.api.routes.pull import pull_query, pull_register
from pesabox.api.routes.qrcode import generate_qr_code
from pesabox.api.routes.sandbox import sandbox_router
from pesabox.api.routes.shortcodes import shortcodes_router
from pesabox.core.onboarding_services import ONBOARDING_STATE, OnboardingServices
from pesabox.core.platform import Platform
from pesabox.errors import PesaError
from pesabox.security.web_secret import web_secret
from pesabox.settings import Settings
from pesabox.web import web_routers
from pesabox.web.security import csrf_config
from pesabox.web.templating import template_config


@get("/healthz", media_type=MediaType.JSON, include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def create_app(
    settings: Settings,
    *,
    platform: Platform | None = None,
    production_certificate: CertificateSource | None = None,
    onboarding: OnboardingServices | None = None,
    web_secret: str | None = None,
) -> FastPaths:
    """The ASGI app: the payment routes on the fast path, the rest on Litestar.

    `production_certificate`: when production runs beside this sandbox app, the production
    Platform's initiator-encryption certificate (`stored_certificate(production, "production")`),
    served as /sandbox/v1/certificates/production.cer.
    `onboarding`: when both environments are served, the one onboarding and change-request
    service of the process, which the /ui/dev, /ui/admin and portal pages call.
    `web_secret`: the secret that signs CSRF tokens, when the caller shares one between apps
    (browsers send the CSRF cookie to every port of a host); else this Platform's own.
    """
    own_platform = platform or Platform(settings)
    litestar = create_litestar(settings, own_platform, web_secret)
    litestar.state[PRODUCTION_CERTIFICATE_STATE] = production_certificate
    litestar.state[ONBOARDING_STATE] = onboarding
    return FastPaths(
        litestar,  # type: ignore[arg-type]
        platform=own_platform,
        max_body_bytes=settings.max_body_bytes,
        recorder=recorder_for(own_platform),
    )


def create_litestar(
    settings: Settings, own_platform: Platform, secret: str | None = None
) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.platform = own_platform
        await own_platform.start(background=settings.run_background)
        # Everything built at start-up lives as long as the process; frozen, it is left out of
        # the cyclic collector's full passes, which otherwise stall the event loop for tens of
        # milliseconds on a heap this size.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await own_platform.stop()

    handlers: list[object] = [healthz, generate_token, generate_qr_code, pull_register, pull_query]
    if settings.environment == "sandbox":
        handlers.extend([sandbox_router, c2b_sandbox_router])
        handlers.append(shortcodes_router)
        handlers.append(bank_accounts_router)
        handlers.append(certificates_router)
        handlers.append(handset_menu_router)
        handlers.append(onboarding_router)
        handlers.append(change_requests_router)
    handlers.extend(web_routers(settings))
    return Litestar(
        route_handlers=handlers,  # type: ignore[arg-type]
        lifespan=[lifespan],
        exception_handlers={
            PesaError: pesa_error_handler,
            HTTPException: http_error_handler,
            Exception: unexpected_error_handler,
        },
        openapi_config=OpenAPIConfig(title="pesabox", version=__version__, path="/docs"),
        request_max_body_size=settings.max_body_bytes,
        template_config=template_config(),
        csrf_config=csrf_config(settings, secret or web_secret(settings, own_platform.engine)),
        debug=False,
    )
