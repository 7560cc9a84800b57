"""`pesabox stk push`: OAuth, one push, and the callback, from the command line."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Annotated, Any

import httpx
import typer
from aiohttp import web
from rich.console import Console

from pesabox.clock import daraja_timestamp
from pesabox.sandbox import fixtures
from pesabox.security.stk_password import stk_password

stk_app = typer.Typer(help="M-Pesa Express from the command line.")
console = Console()


async def _receive_one(port: int, timeout_s: float, start: asyncio.Event) -> dict[str, Any] | None:
    received: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    async def handle(request: web.Request) -> web.Response:
        if not received.done():
            received.set_result(await request.json())
        return web.json_response({"ResultCode": 0, "ResultDesc": "Accepted"})

    server = web.Application()
    server.router.add_post("/callback", handle)
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    start.set()
    try:
        return await asyncio.wait_for(received, timeout_s)
    except TimeoutError:
        return None
    finally:
        await runner.cleanup()


def _push_body(
    *, phone: str, amount: int, shortcode: str, passkey: str, callback_url: str, reference: str
) -> dict[str, Any]:
    timestamp = daraja_timestamp(time.time())
    return {
        "BusinessShortCode": shortcode,
        "Password": stk_password(shortcode, passkey, timestamp),
        "Timestamp": timestamp,
        "TransactionType": "CustomerPayBillOnline",
        "Amount": amount,
        "PartyA": phone,
        "PartyB": shortcode,
        "PhoneNumber": phone,
        "CallBackURL": callback_url,
        "AccountReference": reference,
        "TransactionDesc": "pesabox cli",
    }


@stk_app.command("push")
def push(
    consumer_key: Annotated[str, typer.Option(envvar="PESABOX_CONSUMER_KEY")],
    consumer_secret: Annotated[str, typer.Option(envvar="PESABOX_CONSUMER_SECRET")],
    phone: Annotated[str, typer.Option(help="The paying MSISDN.")] = "254708374149",
    amount: Annotated[int, typer.Option(help="Whole shillings.")] = 1,
    base_url: Annotated[str, typer.Option(help="The gateway.")] = "http://127.0.0.1:8000",
    shortcode: str = "174379",
    passkey: str = fixtures.SANDBOX_PASSKEY,
    reference: str = "pesabox",
    callback_port: Annotated[int, typer.Option(help="Local port for the callback.")] = 8765,
    wait_s: Annotated[float, typer.Option(help="How long to wait for the callback.")] = 90.0,
) -> None:
    """Get a token, push a prompt, and wait for the callback on a local port."""

    async def run() -> None:
        started = asyncio.Event()
        receiver = asyncio.create_task(_receive_one(callback_port, wait_s, started))
        await started.wait()
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            basic = base64.b64encode(f"{consumer_key}:{consumer_secret}".encode()).decode()
            token_reply = await client.get(
                "/oauth/v1/generate",
                params={"grant_type": "client_credentials"},
                headers={"Authorization": f"Basic {basic}"},
            )
            if token_reply.status_code != 200:
                receiver.cancel()
                raise typer.Exit(_fail("oauth", token_reply))
            token = token_reply.json()["access_token"]
            body = _push_body(
                phone=phone,
                amount=amount,
                shortcode=shortcode,
                passkey=passkey,
                callback_url=f"http://127.0.0.1:{callback_port}/callback",
                reference=reference,
            )
            reply = await client.post(
                "/mpesa/stkpush/v1/processrequest",
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            )
            if reply.status_code != 200:
                receiver.cancel()
                raise typer.Exit(_fail("push", reply))
            console.print_json(reply.text)
        callback = await receiver
        if callback is None:
            console.print(f"no callback within {wait_s:.0f} s")
            raise typer.Exit(1)
        console.print_json(json.dumps(callback))

    asyncio.run(run())


def _fail(step: str, reply: httpx.Response) -> int:
    console.print(f"{step} failed: HTTP {reply.status_code} {reply.text}")
    return 1
