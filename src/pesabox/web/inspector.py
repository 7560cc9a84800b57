"""/ui/inspector: inbound API requests and outbound callbacks, live (sandbox only).

The list page holds a GET filter form and two live regions (requests, callbacks) that one
stream refreshes when a request, a callback or an attempt is newer than what the page shows.
A request's page shows its bodies and the callbacks filed under its ids, each with every
attempt and a Resend button (a POST with the CSRF token, answered by a redirect back).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Router, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect, ServerSentEvent, Template

from pesabox.core.inspector import InspectorFilter, InspectorService
from pesabox.errors import PesaError
from pesabox.web.live import watch
from pesabox.web.pages import AnyRequest, Notice, fragment, page, platform_of, redirect

ROOT = "/ui/inspector"
# Field names of the filter form, as they appear in the page's query string.
FILTER_FIELDS = ("app", "shortcode", "msisdn", "transaction")
_VALUE_LENGTH_MAX = 100
ROWS_SHOWN = 50


@dataclass(frozen=True, slots=True)
class ResendForm:
    # Where to go back to: the page the button was on (only a page of the inspector).
    back: str = ROOT


def service_of(request: AnyRequest) -> InspectorService:
    return InspectorService(platform=platform_of(request))


def _printable(value: str) -> str:
    # No id, number or name has control characters, and PostgreSQL refuses a NUL in a query.
    return "".join(ch for ch in value if ch.isprintable())


def filter_of(request: AnyRequest) -> tuple[InspectorFilter, dict[str, str]]:
    """The filter the query string asks for, and the non-empty fields to carry along."""
    values = {
        name: _printable(str(request.query_params.get(name) or "")).strip()[:_VALUE_LENGTH_MAX]
        for name in FILTER_FIELDS
    }
    wanted = InspectorFilter(
        app=values["app"] or None,
        shortcode=values["shortcode"] or None,
        msisdn=values["msisdn"] or None,
        transaction_id=values["transaction"] or None,
    )
    return wanted, {name: value for name, value in values.items() if value}


async def _tables(request: AnyRequest) -> dict[str, Any]:
    wanted, carried = filter_of(request)
    service = service_of(request)
    query = urlencode(carried)
    return {
        "requests": await service.requests(wanted, limit=ROWS_SHOWN),
        "callbacks": await service.callbacks(wanted, limit=ROWS_SHOWN),
        "filters": carried,
        "query": f"?{query}" if query else "",
        "back": f"{ROOT}?{query}" if query else ROOT,
    }


@get("/", include_in_schema=False)
async def inspector_page(request: AnyRequest) -> Template:
    apps = await service_of(request).apps()
    return page(request, "inspector/inspector.html", apps=apps, **await _tables(request))


@get("/requests", include_in_schema=False)
async def requests_fragment(request: AnyRequest) -> Template:
    return fragment(request, "inspector/requests.html", **await _tables(request))


@get("/callbacks", include_in_schema=False)
async def callbacks_fragment(request: AnyRequest) -> Template:
    return fragment(request, "inspector/callbacks.html", **await _tables(request))


@get("/events", include_in_schema=False)
async def inspector_events(request: AnyRequest) -> ServerSentEvent:
    return watch(service_of(request).latest)


@get("/requests/{request_id:int}", include_in_schema=False)
async def request_page(request: AnyRequest, request_id: FromPath[int]) -> Template:
    detail = await service_of(request).request_detail(request_id)
    if detail is None:
        raise NotFoundException("no such request in the inspector's log")
    return page(
        request,
        "inspector/request.html",
        detail=detail,
        callbacks=detail.callbacks,
        back=f"{ROOT}/requests/{request_id}",
    )


@get("/requests/{request_id:int}/callbacks", include_in_schema=False)
async def request_callbacks_fragment(request: AnyRequest, request_id: FromPath[int]) -> Template:
    detail = await service_of(request).request_detail(request_id)
    callbacks = detail.callbacks if detail is not None else []
    back = f"{ROOT}/requests/{request_id}"
    return fragment(request, "inspector/linked_callbacks.html", callbacks=callbacks, back=back)


@get("/callbacks/{callback_id:int}", include_in_schema=False)
async def callback_page(request: AnyRequest, callback_id: FromPath[int]) -> Template:
    found = await service_of(request).callback_detail(callback_id)
    if found is None:
        raise NotFoundException("no such callback")
    callback, requests = found
    back = f"{ROOT}/callbacks/{callback_id}"
    return page(
        request,
        "inspector/callback.html",
        callback=callback,
        callbacks=[callback],
        requests=requests,
        back=back,
    )


def _safe_back(back: str) -> str:
    """Only a page of the inspector: a form field must never send the browser elsewhere."""
    inside = back == ROOT or back.startswith((ROOT + "/", ROOT + "?"))
    if not inside or "//" in back or "\\" in back:
        return ROOT
    return back


@post("/callbacks/{callback_id:int}/resend", include_in_schema=False)
async def resend(
    request: AnyRequest,
    callback_id: FromPath[int],
    data: Annotated[ResendForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Redirect:
    back = _safe_back(data.back)
    try:
        await service_of(request).resend(callback_id)
    except PesaError as error:
        return redirect(request, back, Notice(f"Not resent: {error.error_message}.", "error"))
    return redirect(request, back, Notice(f"Callback {callback_id} will be sent again now."))


inspector_router = Router(
    path="/inspector",
    route_handlers=[
        inspector_page,
        requests_fragment,
        callbacks_fragment,
        inspector_events,
        request_page,
        request_callbacks_fragment,
        callback_page,
        resend,
    ],
    include_in_schema=False,
)
