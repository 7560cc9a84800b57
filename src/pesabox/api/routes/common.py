"""What every route needs: the process's platform."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar import Request

if TYPE_CHECKING:
    from pesabox.core.platform import Platform

AnyRequest = Request[object, object, object]


def platform_of(request: AnyRequest) -> Platform:
    platform: Platform = request.app.state.platform
    return platform
