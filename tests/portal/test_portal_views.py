"""The portal's presentation helpers: the statement filter from a query, the CSV and the
balance chart."""

from __future__ import annotations

import csv
import io

from pesabox.storage.statement_queries import Line
from pesabox.web.portal_views import balance_chart, statement_csv, statement_filter


def test_the_filter_takes_eat_days_and_drops_what_is_not_valid() -> None:
    filters, shown = statement_filter(
        date_from="2026-11-27", date_to="2026-11-27", direction="sideways", purpose="fee",
        receipt=" ukscvx9ck8 ",
    )  # fmt: skip
    # 2026-11-27 00:00 EAT is 2026-11-26 21:00 UTC; the "to" day is included whole.
    assert filters.since == 1_795_726_800.0
    assert filters.until == 1_795_726_800.0 + 86_400
    assert filters.direction is None and filters.purpose == "fee"
    assert filters.receipt == "UKSCVX9CK8"
    assert shown == {"from": "2026-11-27", "to": "2026-11-27", "direction": "", "type": "fee",
                     "receipt": "UKSCVX9CK8"}  # fmt: skip
    nothing, _ = statement_filter(
        date_from="27/11/2026", date_to="", direction=None, purpose="bribe", receipt=None
    )
    assert (nothing.since, nothing.until, nothing.purpose, nothing.receipt) == (None,) * 4


def test_csv_cells_cannot_become_formulas() -> None:
    line = Line("t1", 0.0, "credit", 150, "wallet:254700000000", "principal", "=cmd()", 150)
    rows = list(csv.reader(io.StringIO(statement_csv([line]))))
    assert rows[1][0] == "'=cmd()"
    assert rows[1][2] == "Payment: Customer 254700000000"
    assert rows[1][4:] == ["1.50", "", "1.50"]


def test_the_chart_steps_through_every_balance() -> None:
    lines = [
        Line(f"t{i}", 1_800_000_000.0 + i, "credit", 100, "x", "principal", None, value)
        for i, value in enumerate([100_00, 250_00, 50_00])
    ]
    svg = balance_chart(lines, label='Working <"account">')
    assert svg.startswith('<svg class="balance-chart"') and 'role="img"' in svg
    assert "Working &lt;&quot;account&quot;&gt;" in svg and '<"account">' not in svg
    assert "from KES 100.00" in svg and "to KES 50.00" in svg and "highest KES 250.00" in svg
    # Three points close together are spread evenly: M + 2 steps of two segments each.
    path = svg.split('<path d="')[1].split('"')[0]
    assert path.count("L") == 4
    assert balance_chart(lines[:1], label="x") == ""
