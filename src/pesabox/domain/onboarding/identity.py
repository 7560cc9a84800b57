"""Who signs up and signs in to onboarding: developers (by e-mail) and platform operators
(by username), with the operators' password rules and lockout.

A developer's e-mail is their identity: unique regardless of case ("A@x.ke" and "a@x.ke"
are one person), kept as typed for display.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from pesabox.domain.onboarding.errors import OnboardingError
from pesabox.domain.operators import USERNAME_LENGTH_MAX, OperatorRuleError, check_username
from pesabox.domain.operators import password_problems as operator_password_problems

EMAIL_LENGTH_MAX = 254
PERSON_NAME_LENGTH_MAX = 100
# Safaricom numbers in the form Daraja and the portal's KYC use: 2547XXXXXXXX (and the newer
# 2541XXXXXXXX range).
_PHONE = re.compile(r"254[17][0-9]{8}")
# Deliberately plain: one @, a dot in the domain, no spaces or control characters. Whether
# the mailbox exists is not ours to know.
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}")
LOCKOUT_THRESHOLD = 5
# A developer's lock lasts this long on wall time, then the next sign-in may try again (a
# platform operator's lasts until an admin lifts it).
DEVELOPER_LOCK_S = 15 * 60.0


def email_key(email: str) -> str:
    """The form an e-mail is compared and stored unique in."""
    return email.strip().casefold()


def check_email(email: str) -> str:
    clean = email.strip()
    if len(clean) > EMAIL_LENGTH_MAX or not clean.isprintable() or not _EMAIL.fullmatch(clean):
        raise OnboardingError(f"e-mail {email!r} is not a valid address")
    return clean


def check_person_name(name: str, what: str = "name") -> str:
    clean = " ".join(name.split())
    if not clean or len(clean) > PERSON_NAME_LENGTH_MAX or not clean.isprintable():
        raise OnboardingError(f"{what} must be 1 to {PERSON_NAME_LENGTH_MAX} printable characters")
    return clean


def check_phone(phone: str, what: str = "phone") -> str:
    clean = phone.strip()
    if not _PHONE.fullmatch(clean):
        raise OnboardingError(f"{what} must be a Safaricom number like 2547XXXXXXXX, not {phone!r}")
    return clean


def check_operator_username(username: str) -> str:
    try:
        return check_username(username)
    except OperatorRuleError as error:
        raise OnboardingError(str(error)) from None


def check_new_password(password: str, *, identity: str) -> str:
    """The operators' password rules (8-64 printable ASCII, upper, lower, digit, symbol, no
    `(` or `)`, not containing the username or e-mail's local part)."""
    problems = operator_password_problems(password, username=identity)
    if problems:
        raise OnboardingError("the password must " + "; ".join(problems))
    return password


@dataclass(frozen=True, slots=True)
class DeveloperSignUp:
    email: str
    name: str
    phone: str
    password: str


def check_sign_up(*, email: str, name: str, phone: str, password: str) -> DeveloperSignUp:
    """A sign-up with every field checked; one refusal names every wrong field."""
    problems: list[str] = []
    checked: dict[str, str] = {}
    for label, check, value in (
        ("email", check_email, email),
        ("name", check_person_name, name),
        ("phone", check_phone, phone),
    ):
        try:
            checked[label] = check(value)
        except OnboardingError as error:
            problems.append(str(error))
    # The e-mail's local part stands in for a username; one or two letters of it would
    # refuse half of all passwords for no gain.
    local_part = email.strip().split("@", 1)[0]
    try:
        check_new_password(password, identity=local_part if len(local_part) >= 4 else "")
    except OnboardingError as error:
        problems.append(str(error))
    if problems:
        raise OnboardingError("; ".join(problems))
    return DeveloperSignUp(checked["email"], checked["name"], checked["phone"], password)


__all__ = [
    "DEVELOPER_LOCK_S",
    "EMAIL_LENGTH_MAX",
    "LOCKOUT_THRESHOLD",
    "USERNAME_LENGTH_MAX",
    "DeveloperSignUp",
    "check_email",
    "check_new_password",
    "check_operator_username",
    "check_person_name",
    "check_phone",
    "check_sign_up",
    "email_key",
    "new_one_time_password",
]


_OTP_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
_OTP_SYMBOLS = "#$%*+-=?@"
ONE_TIME_PASSWORD_LENGTH = 12


def new_one_time_password(username: str) -> str:
    """A random first password that passes the operators' rules, sent by SMS to a new
    Business Administrator (one of each character class, the rest from an unambiguous set)."""
    generator = secrets.SystemRandom()
    while True:
        characters = [
            generator.choice("ABCDEFGHJKLMNPQRSTUVWXYZ"),
            generator.choice("abcdefghijkmnopqrstuvwxyz"),
            generator.choice("23456789"),
            generator.choice(_OTP_SYMBOLS),
        ]
        characters += [generator.choice(_OTP_ALPHABET) for _ in range(ONE_TIME_PASSWORD_LENGTH - 4)]
        generator.shuffle(characters)
        password = "".join(characters)
        if not operator_password_problems(password, username=username):
            return password
