"""What recording one request for the inspector costs, in CPU, without a server.

    .venv/bin/python -m bench.inspector_cost [DATABASE_URL]

Without a URL it uses a fresh SQLite file in a temporary directory; a URL must name a scratch
database (or schema) of its own, since it is migrated and written to. For an STK push (the
request and answer the benchmark sends), prints the CPU microseconds per request of: the
capture on the request path, building a row (parse, mask, read the linking ids), and a whole
flush of 2,000 captured requests (rows, insert, retention delete, commit), the last with the
table already at its retention so each row inserted also deletes one, as in steady state.
CPU time (`time.process_time`), not wall time, so other processes on the machine matter less.
"""

from __future__ import annotations

import base64
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from pesabox.api.request_log import RequestRecorder
from pesabox.clock import SystemClock
from pesabox.core.request_log import CapturedRequest, RequestLog, _row
from pesabox.storage.db import make_engine
from pesabox.storage.inspector_db import open_log_engine
from pesabox.storage.migrate import upgrade_to_head

BATCH = 2_000
RETENTION = 20_000
ROUNDS = 7

REQUEST = orjson.dumps(
    {
        "BusinessShortCode": 174379,
        "Password": base64.b64encode(b"174379" + b"k" * 64 + b"20261128101010").decode(),
        "Timestamp": "20261128101010",
        "TransactionType": "CustomerPayBillOnline",
        "Amount": 25,
        "PartyA": "254720000001",
        "PartyB": "174379",
        "PhoneNumber": "254720000001",
        "CallBackURL": "http://127.0.0.1:9000/cb/accept",
        "AccountReference": "bench",
        "TransactionDesc": "bench",
    }
)
ANSWER = orjson.dumps(
    {
        "MerchantRequestID": "3aec-f7e1-b13e-661714ef0b2d201531",
        "CheckoutRequestID": "ws_CO_28112026114706220720000001",
        "ResponseCode": "0",
        "ResponseDescription": "Success. Request accepted for processing",
        "CustomerMessage": "Success. Request accepted for processing",
    }
)
HEADERS = [
    (b"host", b"127.0.0.1:8000"),
    (b"authorization", b"Bearer " + b"t" * 28),
    (b"content-type", b"application/json"),
    (b"content-length", str(len(REQUEST)).encode()),
]
PATH = "/mpesa/stkpush/v1/processrequest"
SCOPE: dict[str, Any] = {"method": "POST", "path": PATH, "headers": HEADERS}
CAPTURED: CapturedRequest = (time.time(), "POST", PATH, HEADERS[1][1], 200, 1.0, REQUEST, ANSWER)


def cpu_us_per_item(job: Callable[[], object], items: int) -> float:
    """Median over `ROUNDS` of the CPU microseconds per item of one call of `job`."""
    samples = []
    for _ in range(ROUNDS):
        started = time.process_time()
        job()
        samples.append((time.process_time() - started) / items * 1e6)
    return statistics.median(samples)


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as directory:
        url = argv[0] if argv else f"sqlite:///{Path(directory) / 'inspector.db'}"
        engine = make_engine(url)
        upgrade_to_head(engine)
        # As a server opens it: on SQLite the log's own file beside the main one.
        log_engine = open_log_engine(engine)
        request_log = RequestLog(engine=engine, log_engine=log_engine, retention=RETENTION)
        recorder = RequestRecorder(
            request_log=request_log, clock=SystemClock(), max_body_bytes=64 * 1024
        )

        def capture() -> None:
            started = time.perf_counter()
            for _ in range(BATCH):
                recorder.record(
                    SCOPE, started=started, status=200, request_body=REQUEST, response_body=ANSWER
                )
            request_log._pending.clear()

        def flush() -> None:
            request_log._write([CAPTURED] * BATCH)

        # Fill the table to its retention first: from then on each flush deletes as it inserts.
        for _ in range(RETENTION // BATCH + 1):
            flush()
        results = {
            "capture on the request path": cpu_us_per_item(capture, BATCH),
            "build one row (parse, mask, ids)": cpu_us_per_item(
                lambda: [_row(CAPTURED, (1, "bench")) for _ in range(BATCH)], BATCH
            ),
            "flush, per request (rows, insert, delete, commit)": cpu_us_per_item(flush, BATCH),
        }
        log_engine.dispose()
        engine.dispose()
    for label, value in results.items():
        print(f"{label:52} {value:6.1f} µs CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
