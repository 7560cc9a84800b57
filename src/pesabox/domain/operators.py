"""An organisation's operators: who may sign in where, with which roles and password.

M-Pesa's org portal has two kinds of operator. A web operator signs in to the portal; an API
operator (an *initiator*) is created with Access Channel = API, cannot sign in to the portal,
and is the `Initiator` whose password, RSA-encrypted, is a request's `SecurityCredential`.
"Web roles cannot make API calls" (mpesa-domain-and-g2.md §2.10), so each kind holds only its
own roles. Role names are the portal's, spelling and capitals included, because integrators
copy them from the portal and Daraja's documentation.

Rules chosen here where the sources are silent (docs/reference/operators.md):
- A password has 8 to 64 printable ASCII characters with an upper- and a lower-case letter, a
  digit and a symbol; no spaces, no `(` or `)`, and not the username.
- An operator is locked after 5 credential failures in a row, and stays locked until an
  administrator unlocks it or sets a new password.
- A password expires `max_age_days` (90 by default) after it was set; 0 turns expiry off.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

# Daraja's B2C prerequisites: initiator passwords expire after 90 days.
PASSWORD_MAX_AGE_DAYS_DEFAULT = 90
# A community note reports the Daraja sandbox locking an initiator after about 5 bad
# credentials (daraja-api.md §3); the portal's own number is unpublished.
LOCKOUT_THRESHOLD_DEFAULT = 5
PASSWORD_LENGTH_MIN = 8
# Far below what one RSA-2048 PKCS#1 v1.5 block carries (245 bytes), leaving room for the
# 14-digit timestamp some clients append before encrypting.
PASSWORD_LENGTH_MAX = 64
# The `operators.username` column's width.
USERNAME_LENGTH_MAX = 64
# Daraja refuses these in production initiator passwords (daraja-api.md §3).
PASSWORD_FORBIDDEN = frozenset("()")
_SECONDS_PER_DAY = 86_400
# Letters, digits and `_ . - @`: what portal usernames are seen to use, and nothing a
# terminal, a CSV export or a log line could misread.
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]*")


class OperatorRuleError(ValueError):
    """An operator or password that breaks a rule; the message says which."""


class OperatorNotFound(OperatorRuleError):
    """The operator, or the shortcode it belongs to, does not exist."""


class OperatorConflict(OperatorRuleError):
    """An operator with that username exists on that shortcode already."""


class OperatorKind(StrEnum):
    API = "api"
    WEB = "web"


class OperatorRole(StrEnum):
    """The org portal's roles, with the portal's own names (§2.10)."""

    B2C_INITIATOR = "ORG B2C API initiator"
    B2B_INITIATOR = "Org B2B API Initiator"
    BALANCE_QUERY = "Balance Query ORG API"
    TRANSACTION_STATUS_QUERY = "Transaction Status query ORG API"
    REVERSALS_INITIATOR = "Org Reversals Initiator"
    BUSINESS_MANAGER = "Business Manager"
    BUSINESS_ADMINISTRATOR = "Business Administrator"
    BUSINESS_OPERATOR = "Business Operator"
    BUSINESS_AUDITOR = "Business Auditor"


API_ROLES = frozenset(
    {
        OperatorRole.B2C_INITIATOR,
        OperatorRole.B2B_INITIATOR,
        OperatorRole.BALANCE_QUERY,
        OperatorRole.TRANSACTION_STATUS_QUERY,
        OperatorRole.REVERSALS_INITIATOR,
    }
)
WEB_ROLES = frozenset(OperatorRole) - API_ROLES
ROLES_BY_KIND = {OperatorKind.API: API_ROLES, OperatorKind.WEB: WEB_ROLES}

# Short names for the command line; the portal's names are accepted too, in any case.
ROLE_SHORT_NAMES = {
    "b2c": OperatorRole.B2C_INITIATOR,
    "b2b": OperatorRole.B2B_INITIATOR,
    "balance": OperatorRole.BALANCE_QUERY,
    "status": OperatorRole.TRANSACTION_STATUS_QUERY,
    "reversal": OperatorRole.REVERSALS_INITIATOR,
    "manager": OperatorRole.BUSINESS_MANAGER,
    "administrator": OperatorRole.BUSINESS_ADMINISTRATOR,
    "operator": OperatorRole.BUSINESS_OPERATOR,
    "auditor": OperatorRole.BUSINESS_AUDITOR,
}
_ROLE_BY_FOLDED_NAME = {
    **{" ".join(role.value.casefold().split()): role for role in OperatorRole},
    **ROLE_SHORT_NAMES,
}


def parse_kind(text: str) -> OperatorKind:
    try:
        return OperatorKind(text.strip().lower())
    except ValueError:
        raise OperatorRuleError(f"kind must be api or web, not {text!r}") from None


def parse_role(text: str) -> OperatorRole:
    """A role by its portal name (any case or spacing) or its short name."""
    role = _ROLE_BY_FOLDED_NAME.get(" ".join(text.casefold().split()))
    if role is None:
        known = ", ".join(f"{r.value!r}" for r in OperatorRole)
        raise OperatorRuleError(f"no role {text.strip()!r}; roles are {known}")
    return role


def parse_roles(text: str | Iterable[str]) -> tuple[OperatorRole, ...]:
    """Roles from a comma-separated list (the `operators.roles` form) or an iterable, in
    catalogue order without repeats, so two spellings of one set store the same text."""
    names = text.split(",") if isinstance(text, str) else list(text)
    chosen = {parse_role(name) for name in names if name.strip()}
    return tuple(role for role in OperatorRole if role in chosen)


def format_roles(roles: Iterable[OperatorRole]) -> str:
    return ",".join(role.value for role in roles)


def check_roles(kind: OperatorKind, roles: Iterable[OperatorRole]) -> tuple[OperatorRole, ...]:
    """The roles, if `kind` may hold every one of them and there is at least one."""
    chosen = tuple(roles)
    if not chosen:
        raise OperatorRuleError("an operator needs at least one role")
    foreign = [role.value for role in chosen if role not in ROLES_BY_KIND[kind]]
    if foreign:
        other = "web" if kind is OperatorKind.API else "API"
        raise OperatorRuleError(
            f"an {kind.value} operator cannot hold {', '.join(foreign)}: those are {other} roles"
        )
    return chosen


def check_username(username: str) -> str:
    clean = username.strip()
    if not clean or len(clean) > USERNAME_LENGTH_MAX or not _USERNAME.fullmatch(clean):
        raise OperatorRuleError(
            f"username must be 1 to {USERNAME_LENGTH_MAX} letters, digits or _ . - @, "
            f"starting with a letter or digit, not {username!r}"
        )
    return clean


def password_problems(password: str, *, username: str) -> list[str]:
    """Every rule the password breaks, so one refusal can name them all."""
    problems = []
    if not PASSWORD_LENGTH_MIN <= len(password) <= PASSWORD_LENGTH_MAX:
        problems.append(f"have {PASSWORD_LENGTH_MIN} to {PASSWORD_LENGTH_MAX} characters")
    # Printable ASCII only: clients encode the password before encrypting it, and UTF-8 and
    # Latin-1 agree only on ASCII, so anything else could fail for some clients and not others.
    if not all("!" <= character <= "~" for character in password):
        problems.append("use only printable ASCII characters, without spaces")
    if PASSWORD_FORBIDDEN & set(password):
        problems.append("not contain ( or ), which Daraja refuses")
    character_classes = (
        ("an upper-case letter", str.isupper),
        ("a lower-case letter", str.islower),
        ("a digit", str.isdigit),
        ("a symbol", lambda character: not character.isalnum()),
    )
    for label, test in character_classes:
        if not any(test(character) for character in password if character.isascii()):
            problems.append(f"contain {label}")
    if username and username.casefold() in password.casefold():
        problems.append("not contain the username")
    return problems


def check_password(password: str, *, username: str) -> str:
    problems = password_problems(password, username=username)
    if problems:
        raise OperatorRuleError("the password must " + "; ".join(problems))
    return password


def password_expired(*, password_changed_at: float, now: float, max_age_days: int) -> bool:
    """Whether a password set at `password_changed_at` has expired by `now`; a
    `max_age_days` of 0 or less means passwords never expire."""
    if max_age_days <= 0:
        return False
    return now - password_changed_at >= max_age_days * _SECONDS_PER_DAY


# --- the verdict on an initiator ---------------------------------------------------------


class InitiatorOutcome(StrEnum):
    OK = "ok"
    INVALID = "invalid"
    LOCKED = "locked"
    # A right password past its age. Daraja has no code of its own for it; integrators whose
    # initiator password expired report 2001 and are told to reset it in the portal.
    EXPIRED = "expired"
    # A right password without the role the API needs: Daraja's result 21 (§19.2, §19.3).
    NOT_ALLOWED = "not_allowed"


INITIATOR_INVALID_CODE = 2001
INITIATOR_LOCKED_CODE = 8006
# Daraja's B2C result table (daraja-api.md §19.2) writes 8006 without the final full stop.
INITIATOR_INVALID_DESCRIPTION = "The initiator information is invalid."
INITIATOR_LOCKED_DESCRIPTION = "The security credential is locked"
INITIATOR_NOT_ALLOWED_CODE = 21
INITIATOR_NOT_ALLOWED_DESCRIPTION = "The initiator is not allowed to initiate this request"

_CODES = {
    InitiatorOutcome.OK: (0, "The service request is processed successfully."),
    InitiatorOutcome.INVALID: (INITIATOR_INVALID_CODE, INITIATOR_INVALID_DESCRIPTION),
    InitiatorOutcome.LOCKED: (INITIATOR_LOCKED_CODE, INITIATOR_LOCKED_DESCRIPTION),
    InitiatorOutcome.EXPIRED: (INITIATOR_INVALID_CODE, INITIATOR_INVALID_DESCRIPTION),
    InitiatorOutcome.NOT_ALLOWED: (INITIATOR_NOT_ALLOWED_CODE, INITIATOR_NOT_ALLOWED_DESCRIPTION),
}


@dataclass(frozen=True, slots=True)
class InitiatorVerdict:
    """The outcome of checking an initiator's name, password and role.

    `reason` is for logs and the inspector, never the wire: a caller learns only the result
    code, so 2001 does not tell an attacker which of name, password or role was wrong.
    """

    outcome: InitiatorOutcome
    reason: str
    operator_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is InitiatorOutcome.OK

    @property
    def result_code(self) -> int:
        return _CODES[self.outcome][0]

    @property
    def result_description(self) -> str:
        return _CODES[self.outcome][1]
