"""What one initiator check costs, with and without the verification cache.

    .venv/bin/python -m bench.initiator_auth_cost [DATABASE_URL]

Without a URL it uses a fresh SQLite file in a temporary directory. Prints the median
microseconds per call of: PBKDF2 alone, the operator row's read alone (a connection from
the pool, one short db transaction), a check that misses the cache (fresh cache each call),
one that hits, and both for a timestamp-suffixed credential (two candidates).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pesabox.domain.operators import OperatorRole
from pesabox.sandbox import fixtures
from pesabox.sandbox.seed import seed
from pesabox.security.credentials import pin_digest, pin_matches
from pesabox.security.initiator_auth import VerificationCache, check_initiator
from pesabox.storage.db import make_engine, write_transaction
from pesabox.storage.ledger_store import LedgerStore
from pesabox.storage.migrate import upgrade_to_head
from pesabox.storage.operators_store import get_operator
from pesabox.storage.types import Engine

ROUNDS = 50
PASSWORD = fixtures.INITIATOR_PASSWORD
SUFFIXED = (PASSWORD + "20260101120000", PASSWORD)


def median_us(job: Callable[[], object], rounds: int = ROUNDS) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        job()
        samples.append((time.perf_counter() - started) * 1e6)
    return statistics.median(samples)


def read_operator(engine: Engine) -> object:
    with engine.connect() as conn, conn.begin():
        return get_operator(conn, shortcode="600996", username=fixtures.INITIATOR_NAME)


def checker(engine: Engine, candidates: tuple[str, ...], *, shared: bool) -> Callable[[], object]:
    cache = VerificationCache()

    def run() -> object:
        with engine.connect() as conn:
            verdict = check_initiator(
                conn,
                shortcode="600996",
                username=fixtures.INITIATOR_NAME,
                password_candidates=candidates,
                role=OperatorRole.B2C_INITIATOR,
                now=time.time(),
                cache=cache if shared else VerificationCache(),
            )
        assert verdict.ok, verdict
        return verdict

    return run


def main(url: str) -> None:
    engine = make_engine(url)
    upgrade_to_head(engine)
    with write_transaction(engine) as conn:
        seed(conn, now=time.time(), ledger=LedgerStore())
    digest = pin_digest(PASSWORD)
    rows = [
        ("PBKDF2 (pin_matches) alone", median_us(lambda: pin_matches(PASSWORD, digest))),
        ("operator row read alone", median_us(lambda: read_operator(engine))),
        ("check, cache miss", median_us(checker(engine, (PASSWORD,), shared=False))),
        ("check, cache hit", median_us(checker(engine, (PASSWORD,), shared=True))),
        ("check + timestamp suffix, miss", median_us(checker(engine, SUFFIXED, shared=False))),
        ("check + timestamp suffix, hit", median_us(checker(engine, SUFFIXED, shared=True))),
    ]
    engine.dispose()
    print(f"{engine.dialect.name}, median of {ROUNDS} calls")
    for label, micros in rows:
        print(f"  {label:<34}{micros:>10,.0f} µs")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(sys.argv[1])
    else:
        with tempfile.TemporaryDirectory() as directory:
            main(f"sqlite:///{Path(directory) / 'cost.db'}")
