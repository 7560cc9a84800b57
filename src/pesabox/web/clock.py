"""/ui/clock: the sandbox's time, and buttons that move it on (sandbox only)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Annotated

from litestar import Router, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, ServerSentEvent, Template

from pesabox.domain.business_days import next_business_day
from pesabox.errors import PesaError
from pesabox.web.live import watch
from pesabox.web.pages import AnyRequest, Notice, fragment, page, platform_of, redirect
from pesabox.web.templating import EAT

HOUR_S = 3600.0
DAY_S = 24 * HOUR_S
STEPS = {"hour": "an hour", "day": "a day", "business-morning": "the next business morning"}


# When the sandbox's "next business morning" lands: banks and offices open.
BUSINESS_MORNING = time(8, 0)


@dataclass(frozen=True, slots=True)
class ClockStep:
    step: str


def next_business_morning(now: datetime) -> datetime:
    """08:00 EAT on the first Kenyan business day after `now`'s date."""
    day = next_business_day(now.date())
    return datetime.combine(day, BUSINESS_MORNING, tzinfo=EAT)


def seconds_to(step: str, now_s: float) -> float:
    """How far `step` moves the clock from `now_s`."""
    if step == "hour":
        return HOUR_S
    if step == "day":
        return DAY_S
    if step == "business-morning":
        now = datetime.fromtimestamp(now_s, tz=EAT)
        return (next_business_morning(now) - now).total_seconds()
    raise ValueError(f"unknown step {step!r}")


def _view(request: AnyRequest) -> dict[str, object]:
    now_s = platform_of(request).clock.now()
    now = datetime.fromtimestamp(now_s, tz=EAT)
    return {
        "now_s": now_s,
        "now": now,
        "offset": timedelta(seconds=round(platform_of(request).clock.offset_s)),
        "next_morning": next_business_morning(now),
    }


@get("/", include_in_schema=False)
async def clock_page(request: AnyRequest) -> Template:
    return page(request, "clock/clock.html", steps=STEPS, **_view(request))


@get("/now", include_in_schema=False)
async def clock_fragment(request: AnyRequest) -> Template:
    return fragment(request, "clock/now.html", **_view(request))


@get("/events", include_in_schema=False)
async def clock_events(request: AnyRequest) -> ServerSentEvent:
    platform = platform_of(request)

    async def offset() -> float:
        # The offset, not the time: only a jump (here or in another process) is news.
        await asyncio.to_thread(platform.refresh)
        return platform.clock.offset_s

    return watch(offset)


@post("/advance", include_in_schema=False)
async def advance(
    request: AnyRequest,
    data: Annotated[ClockStep, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Redirect:
    platform = platform_of(request)
    try:
        seconds = seconds_to(data.step, platform.clock.now())
        await platform.sandbox.advance_clock(seconds)
    except (ValueError, PesaError) as error:
        return redirect(request, "/ui/clock", Notice(str(error), "error"))
    return redirect(request, "/ui/clock", Notice(f"The clock moved on {STEPS[data.step]}."))


clock_router = Router(
    path="/clock",
    route_handlers=[clock_page, clock_fragment, clock_events, advance],
    include_in_schema=False,
)
