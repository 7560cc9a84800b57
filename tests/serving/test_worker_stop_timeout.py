"""The parent of serving workers waits out a worker's slowest graceful stop before it kills."""

from __future__ import annotations

from pesabox.serving import runner
from pesabox.storage.writer import CLOSE_DRAIN_S


def test_the_parent_outwaits_a_workers_slowest_graceful_stop() -> None:
    # Two server groups close their connections one after the other, then the Platforms'
    # ledger writers drain.
    slowest_stop_s = 2 * runner._GRACEFUL_SHUTDOWN_S + CLOSE_DRAIN_S
    assert runner._WORKER_STOP_TIMEOUT_S > slowest_stop_s
