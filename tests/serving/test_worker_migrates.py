"""`pesabox worker` on databases never migrated: it upgrades them, as `serve` does, before
its Platforms start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import inspect

from pesabox.storage.db import make_engine

_STOP_TIMEOUT_S = 30.0


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_worker_migrates_both_databases_before_it_starts(tmp_path: Path) -> None:
    platform_url = f"sqlite:///{tmp_path}/pesabox.db"
    production_url = f"sqlite:///{tmp_path}/pesabox.production.db"
    # None of the caller's PESABOX_* leaks in.
    env = {name: value for name, value in os.environ.items() if not name.startswith("PESABOX_")}
    env |= {"PESABOX_DATABASE_URL": platform_url, "PESABOX_ENVIRONMENTS": "sandbox,production"}
    process = subprocess.Popen(
        [sys.executable, "-m", "pesabox", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        # Until it says it runs, or ends (a failed start closes the pipe).
        for line in process.stdout:
            lines.append(line)
            if "worker running" in line:
                break
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=_STOP_TIMEOUT_S)
    output = "".join(lines) + rest
    assert any("worker running for sandbox,production" in line for line in lines), output
    assert process.returncode == 0, output
    for url in (platform_url, production_url):
        assert {"alembic_version", "transfers"} <= _tables(url), url
