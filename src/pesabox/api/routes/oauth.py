from __future__ import annotations

from litestar import MediaType, Response, get

from pesabox.api.routes.common import AnyRequest, platform_of
from pesabox.api.schemas.common import OAuthResponse


@get("/oauth/v1/generate", media_type=MediaType.JSON, summary="Generate an access token")
async def generate_token(request: AnyRequest) -> Response[OAuthResponse]:
    token, expires_in = await platform_of(request).tokens.issue(
        authorization=request.headers.get("authorization"),
        grant_type=request.query_params.get("grant_type"),
    )
    return Response(OAuthResponse(access_token=token, expires_in=expires_in), status_code=200)
