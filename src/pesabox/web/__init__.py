"""The people's web pages under /ui: Jinja2 templates, plain JavaScript, live updates over
Server-Sent Events. Each area is one module with one Router; `web_routers` lists them."""

from __future__ import annotations

from litestar import Router
from litestar.static_files import create_static_files_router

from pesabox.settings import Settings
from pesabox.web.admin import admin_router
from pesabox.web.clock import clock_router
from pesabox.web.dev import dev_router
from pesabox.web.home import home
from pesabox.web.inspector import inspector_router
from pesabox.web.phone import phone_router
from pesabox.web.portal import portal_router
from pesabox.web.templating import STATIC


def web_routers(settings: Settings) -> list[Router]:
    """Every /ui route this environment serves. Sandbox-only areas (the phones, the inspector,
    the clock) are simply absent in production."""
    # The developer portal and the operators' console are on both environments' listeners;
    # they work where the process serves both (they answer so where it does not).
    handlers: list[object] = [home, portal_router, dev_router, admin_router]
    if settings.environment == "sandbox":
        handlers.append(clock_router)
        handlers.append(phone_router)
        handlers.append(inspector_router)
    return [
        create_static_files_router(
            path="/ui/static", directories=[STATIC], include_in_schema=False
        ),
        Router(path="/ui", route_handlers=handlers, include_in_schema=False),  # type: ignore[arg-type]
    ]
