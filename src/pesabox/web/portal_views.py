"""What the org portal's pages show, worked out from the services' values: the statement's
wording, its CSV, the balance chart (inline SVG, no script), and the query's filters."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from pesabox.domain.business_days import day_start
from pesabox.domain.statement_filter import DIRECTIONS, StatementFilter
from pesabox.web.templating import kes, when

PURPOSES = {
    "principal": "Payment",
    "fee": "Charge",
    "funding": "Funding",
    "reversal": "Reversal",
}
_COUNTERPARTY_PREFIXES = {
    "wallet": "Customer",
    "utility": "Utility account",
    "working": "Working account",
    "charges": "Charges Paid account",
    "bonga": "Bonga points",
}
_PLATFORM_ACCOUNTS = {
    "platform:bank_settlement": "Bank settlement",
    "platform:revenue": "Safaricom (charges)",
    "platform:float": "M-PESA float",
    "platform:suspense": "Suspense",
}
# Spreadsheets run a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Receipts, conversation ids and transfer ids: nothing else is worth a query.
_RECEIPT_TEXT = re.compile(r"[A-Z0-9:_-]{1,80}")
CHART_WIDTH = 640
CHART_HEIGHT = 200
_CHART_PAD = 8
_LABEL_ROOM = 16
_TIME_AXIS_MIN_S = 3600.0


def counterparty(code: str) -> str:
    if code in _PLATFORM_ACCOUNTS:
        return _PLATFORM_ACCOUNTS[code]
    kind, _, owner = code.partition(":")
    label = _COUNTERPARTY_PREFIXES.get(kind)
    return f"{label} {owner}" if label else code


def details(line: Any) -> str:
    return f"{PURPOSES.get(line.purpose, line.purpose)}: {counterparty(line.counterparty)}"


def _parse_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text and text.strip() else None
    except ValueError:
        return None


def statement_filter(
    *,
    date_from: str | None,
    date_to: str | None,
    direction: str | None,
    purpose: str | None,
    receipt: str | None,
) -> tuple[StatementFilter, dict[str, str]]:
    """The filter the query asks for, and the values to show back in the form. A value that
    is not valid (a date that is not one) is left out rather than refused."""
    first, last = _parse_day(date_from), _parse_day(date_to)
    chosen_direction = direction if direction in DIRECTIONS else None
    chosen_purpose = purpose if purpose in PURPOSES else None
    typed = (receipt or "").strip().upper()[:80]
    chosen_receipt = typed if _RECEIPT_TEXT.fullmatch(typed) else None
    filters = StatementFilter(
        since=day_start(first) if first else None,
        # The "to" day is included: the filter ends at the start of the day after it.
        until=day_start(last + timedelta(days=1)) if last else None,
        direction=chosen_direction,
        purpose=chosen_purpose,
        receipt=chosen_receipt,
    )
    shown = {
        "from": first.isoformat() if first else "",
        "to": last.isoformat() if last else "",
        "direction": chosen_direction or "",
        "type": chosen_purpose or "",
        "receipt": chosen_receipt or "",
    }
    return filters, shown


def _cell(text: str) -> str:
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def statement_csv(lines: Iterable[Any]) -> str:
    """The statement as M-PESA's org portal exports it: one row per transfer, newest first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        ["Receipt No.", "Completion Time", "Details", "Direction", "Paid In", "Withdrawn",
         "Balance"]
    )  # fmt: skip
    for line in lines:
        paid_in = kes(line.amount_cents) if line.direction == "credit" else ""
        withdrawn = kes(line.amount_cents) if line.direction == "debit" else ""
        writer.writerow(
            [
                _cell(line.transaction_id or line.transfer_id),
                when(line.created_at),
                _cell(details(line)),
                line.direction,
                paid_in.replace(",", ""),
                withdrawn.replace(",", ""),
                kes(line.balance_after_cents).replace(",", ""),
            ]
        )
    return out.getvalue()


def balance_chart(lines: Sequence[Any], *, label: str) -> str:
    """An inline SVG step line of the balance after each statement line, oldest on the left.

    Across an hour or more the x axis is time; within less (a sandbox session's burst of
    payments) every transfer gets an equal step, or they would pile up on one pixel. Every
    number is computed here and the label is escaped, so the markup is safe to insert as is.
    """
    points: list[tuple[float, int]] = sorted(
        (float(line.created_at), int(line.balance_after_cents)) for line in lines
    )
    if len(points) < 2:
        return ""
    times = [p[0] for p in points]
    values = [p[1] for p in points]
    by_time = times[-1] - times[0] >= _TIME_AXIS_MIN_S
    positions = times if by_time else [float(i) for i in range(len(points))]
    low, high = min(0, *values), max(0, *values)
    span_x = (positions[-1] - positions[0]) or 1.0
    span_v = (high - low) or 1
    inner_w = CHART_WIDTH - 2 * _CHART_PAD
    inner_h = CHART_HEIGHT - 2 * _CHART_PAD - _LABEL_ROOM

    def x(position: float) -> float:
        return _CHART_PAD + (position - positions[0]) / span_x * inner_w

    def y(v: int) -> float:
        return _CHART_PAD + (high - v) / span_v * inner_h

    # A step line: a balance holds its value until the next transfer moves it.
    path = [f"M{x(positions[0]):.1f},{y(values[0]):.1f}"]
    for position, v, previous in zip(positions[1:], values[1:], values, strict=False):
        path.append(f"L{x(position):.1f},{y(previous):.1f}")
        path.append(f"L{x(position):.1f},{y(v):.1f}")
    zero = y(0)
    first, last = when(times[0], "%d %b %H:%M"), when(times[-1], "%d %b %H:%M")
    summary = _escape(
        f"{label}: from KES {kes(values[0])} on {first} to KES {kes(values[-1])} on {last}; "
        f"highest KES {kes(max(values))}, lowest KES {kes(min(values))}"
    )
    base = CHART_HEIGHT - 4
    return (
        f'<svg class="balance-chart" viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" role="img" '
        f'aria-label="{summary}">'
        f"<title>{summary}</title>"
        f'<line x1="{_CHART_PAD}" x2="{CHART_WIDTH - _CHART_PAD}" y1="{zero:.1f}" '
        f'y2="{zero:.1f}" class="axis"/>'
        f'<path d="{" ".join(path)}" class="line"/>'
        f'<text x="{_CHART_PAD}" y="{base}" class="tick">{_escape(first)}</text>'
        f'<text x="{CHART_WIDTH - _CHART_PAD}" y="{base}" class="tick end">{_escape(last)}</text>'
        f'<text x="{_CHART_PAD + 2}" y="{_CHART_PAD + 10}" class="tick">'
        f"KES {kes(high)}</text>"
        "</svg>"
    )


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )
