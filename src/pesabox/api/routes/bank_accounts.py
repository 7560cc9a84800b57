"""An organisation's bank account in the sandbox control API, as onboarding registers it:
`PUT` and `GET /sandbox/v1/organisations/{id}/bank-account`. Withdrawals from the org
portal are paid to it."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Router, get, put
from litestar.params import FromPath

from pesabox.api.body import decode
from pesabox.api.routes.common import AnyRequest, platform_of
from pesabox.api.schemas.bank_accounts import BankAccountRequest, bank_account_out
from pesabox.domain.bank_details import BankDetails, BankDetailsError, check_bank_details
from pesabox.errors import SandboxError
from pesabox.storage import bank_accounts_store
from pesabox.storage.db import read_transaction
from pesabox.storage.types import Connection

# Ids are database integers; anything past this cannot be one.
_MAX_ID = 2**62


def _no_organisation(organisation_id: int) -> SandboxError:
    return SandboxError(
        f"no organisation with id {organisation_id}", error_code="404.001.01", http_status=404
    )


@put("/organisations/{organisation_id:int}/bank-account")
async def set_bank_account(request: AnyRequest, organisation_id: FromPath[int]) -> dict[str, Any]:
    body = await decode(request, BankAccountRequest)
    try:
        details = check_bank_details(
            bank_name=body.bank_name,
            branch=body.branch,
            account_number=str(body.account_number),
            account_name=body.account_name,
        )
    except BankDetailsError as refusal:
        raise SandboxError(str(refusal)) from None
    if not 0 < organisation_id < _MAX_ID:
        raise _no_organisation(organisation_id)
    platform = platform_of(request)
    now = platform.clock.now()

    def job(conn: Connection) -> bool:
        if not bank_accounts_store.organisation_exists(conn, organisation_id):
            return False
        bank_accounts_store.set_bank_details(conn, organisation_id, details, now=now)
        return True

    if not await platform.writer.submit(job):
        raise _no_organisation(organisation_id)
    return bank_account_out(organisation_id, details)


@get("/organisations/{organisation_id:int}/bank-account")
async def get_bank_account(request: AnyRequest, organisation_id: FromPath[int]) -> dict[str, Any]:
    if not 0 < organisation_id < _MAX_ID:
        raise _no_organisation(organisation_id)
    engine = platform_of(request).engine

    def read() -> BankDetails | None:
        with read_transaction(engine) as conn:
            return bank_accounts_store.get_bank_details(conn, organisation_id)

    found = await asyncio.to_thread(read)
    if found is None:
        raise SandboxError(
            f"organisation {organisation_id} has no bank account",
            error_code="404.001.01",
            http_status=404,
        )
    return bank_account_out(organisation_id, found)


bank_accounts_router = Router(
    path="/sandbox/v1", route_handlers=[set_bank_account, get_bank_account], tags=["sandbox"]
)
