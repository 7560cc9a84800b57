"""The landing page of /ui: where each of the people's pages is."""

from __future__ import annotations

from litestar import get
from litestar.response import Template

from pesabox.web.pages import AnyRequest, page


@get("/", include_in_schema=False)
async def home(request: AnyRequest) -> Template:
    return page(request, "home.html")
