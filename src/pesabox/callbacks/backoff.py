"""How long to wait before the next delivery attempt of a callback.

Capped exponential backoff with "equal jitter": the delay for attempt n is drawn from
[ceiling / 2, ceiling], where ceiling = min(cap, base * 2 ** (n - 1)). Half of the delay is
fixed, so a struggling receiver always gets at least half the nominal pause; the other half is
random, so callbacks that failed together (a receiver outage) do not all come back together.
"""

from __future__ import annotations

import random

# 2 ** 62 times any sane base is far beyond any cap; clamping keeps the float finite.
_EXPONENT_MAX = 62


def backoff_ceiling_s(attempt: int, *, base_s: float, cap_s: float) -> float:
    """The largest delay after `attempt` attempts (1-based): base, 2 x base, 4 x base ... cap."""
    exponent = min(max(attempt - 1, 0), _EXPONENT_MAX)
    return max(0.0, min(cap_s, base_s * float(2**exponent)))


def next_attempt_delay_s(
    attempt: int,
    *,
    base_s: float,
    cap_s: float,
    rng: random.Random | None = None,
) -> float:
    """The pause after attempt number `attempt` (1-based) failed.

    Pure apart from the draw from `rng`; pass a seeded `random.Random` for repeatable delays.
    Without one, the random module's shared generator supplies the jitter.
    """
    ceiling_s = backoff_ceiling_s(attempt, base_s=base_s, cap_s=cap_s)
    half_s = ceiling_s / 2
    # Jitter spreads retries apart; it protects no secret, so a non-cryptographic draw is right.
    draw = rng.random() if rng is not None else random.random()  # noqa: S311
    return half_s + half_s * draw
