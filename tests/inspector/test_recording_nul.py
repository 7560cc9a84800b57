"""A NUL from a client (`%00` in a path, a raw byte in a body) is logged as an escape:
PostgreSQL refuses NUL in text, and one such request must not lose the batch it is in."""

from __future__ import annotations

from pesabox.core.request_log import _row


def test_a_nul_in_the_path_and_body_is_stored_escaped() -> None:
    captured = (
        1_790_000_000.0,
        "GET",
        "/sandbox/v1/c2b/payments/AB\x00",
        None,
        404,
        1.5,
        b'{"ShortCode": "60\x0000"}',
        b"not json \x00 at all",
    )
    row = _row(captured, (None, None))  # type: ignore[arg-type]
    texts = [value for value in row if isinstance(value, str)]
    assert all("\x00" not in value for value in texts)
    assert "/sandbox/v1/c2b/payments/AB\\x00" in texts
    assert any("\\x00 at all" in value for value in texts)
