"""/ui/org/{shortcode}/crqs: the organisation's change requests (go-live, URL changes,
certificates) with their states and events, read-only, and who to call.

CRQs name production organisations, so only the production portal lists them: the sandbox's
organisations are other organisations that happen to share ids.
"""

from __future__ import annotations

from litestar import get
from litestar.params import FromPath
from litestar.response import Template

from pesabox.core.onboarding_services import ONBOARDING_STATE, OnboardingServices
from pesabox.web.dev_common import support_context
from pesabox.web.pages import AnyRequest, page, platform_of
from pesabox.web.portal_session import shortcode_session, signed_in_context


@get("/{shortcode:str}/crqs", include_in_schema=False)
async def change_requests(request: AnyRequest, shortcode: FromPath[str]) -> Template:
    session, _ = await shortcode_session(request, shortcode)
    services: OnboardingServices | None = request.app.state.get(ONBOARDING_STATE)
    listed = platform_of(request).settings.environment == "production" and services is not None
    details = []
    if listed and services is not None:
        crqs = services.change_requests
        for change in await crqs.of_organisation(session.organisation_id):
            details.append(await crqs.detail(change.number))
    return page(
        request,
        "portal/crqs.html",
        details=details,
        listed=listed,
        **support_context(request),
        **signed_in_context(session, shortcode, "crqs"),
    )
