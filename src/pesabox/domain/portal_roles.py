"""Which web operator roles may do what in the org portal (mpesa-domain-and-g2.md §2.7:
withdrawing needs a Business Manager). Any web role may read."""

from __future__ import annotations

from pesabox.domain.operators import OperatorRole

MOVE_FUNDS_ROLES = frozenset({OperatorRole.BUSINESS_MANAGER})
WITHDRAW_ROLES = frozenset({OperatorRole.BUSINESS_MANAGER})
ADMINISTER_ROLES = frozenset({OperatorRole.BUSINESS_ADMINISTRATOR})
