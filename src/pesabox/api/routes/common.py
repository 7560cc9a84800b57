"""What every route needs: the process's platform."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request

if TYPE_CHECKING:
    from pesabox.core.platform import Platform

AnyRequest = Request[Any, Any, Any]


def platform_of(request: AnyRequest) -> Platform:
    platform: Platform = request.app.state.platform
    return platform
