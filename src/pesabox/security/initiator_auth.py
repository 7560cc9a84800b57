"""Is this initiator who it says it is, and may it do this? The check behind result codes
2001 and 8006 of B2C, B2B, Account Balance, Transaction Status and Reversal.

The caller decrypts the SecurityCredential and hands over the password candidates: the
plaintext and, when it ends in 14 digits, the plaintext without them (some clients append a
timestamp before encrypting). Any candidate that matches is the password.

Order of the checks, and why:
1. Unknown operator: 2001, after the same key stretching a wrong password costs, so the
   response time does not tell which usernames exist (`REFUSAL_WORK_MIN`).
2. Locked: 8006, even with the right password. The password is not checked, so a locked
   operator gives an attacker no more guesses; the same key stretching as for an unknown
   operator is done (on the dummy digest), so the time taken does not single out locked,
   and therefore existing, usernames.
3. Wrong password: the failure is counted; 2001, or 8006 when this failure locks it.
4. Right password, but a web operator: 2001; without the role: 21 (not allowed). Nothing is
   counted: the password was right, and counting would lock an operator over its
   administrator's mistake.
5. Right password past its age: 2001 (outcome "expired"; see `domain.operators`).
6. Otherwise OK, and a failure counter left from earlier mistakes is reset.

Transactions. PBKDF2 takes tens of milliseconds by design. Held inside a write transaction it
would stall every other writer for that long (SQLite has one writer; PostgreSQL writers here
take turns on an advisory lock). So, given a connection outside any db transaction, the check
runs as three steps: a short read transaction for the operator row; the key stretching with
no transaction open; then, only if a counter must move, one single-statement write
transaction. The row may change between the read and the write; the write's own conditions
make that safe (see `operators_store.record_failure` and `record_success`). Given a
connection already inside a db transaction, everything runs in it and the caller's commit
carries the counters; a rollback then forgets a failure, so prefer a fresh connection.

Initiators send the same credential with every call, so successful verifications are cached
in-process (`VerificationCache`): a repeat costs a keyed SHA-256 instead of PBKDF2.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache

from sqlalchemy import Connection

from pesabox.domain.operators import (
    LOCKOUT_THRESHOLD_DEFAULT,
    PASSWORD_MAX_AGE_DAYS_DEFAULT,
    InitiatorOutcome,
    InitiatorVerdict,
    OperatorKind,
    OperatorRole,
    password_expired,
)
from pesabox.security.credentials import pin_digest, pin_matches
from pesabox.storage import operators_store
from pesabox.storage.operators_store import OperatorRecord

# (password, stored digest) -> whether they match: the slow step, and the tests' seam.
PasswordCheck = Callable[[str, str], bool]
# Enough for every initiator of a large deployment, at about 200 bytes an entry.
CACHE_ENTRIES_MAX = 4096
# Every refusal for a wrong or unknown credential costs at least this many key stretchings.
# Decryption yields no candidate (a credential for another key), one, or two (a timestamp
# suffix); if a refusal took time in proportion, its timing would tell a wrong key from a
# wrong password, the oracle that credential_check's implicit rejection removes.
REFUSAL_WORK_MIN = 2


class VerificationCache:
    """A bounded, thread-safe LRU set of verified (operator, password) pairs.

    A key holds the operator id, its `password_changed_at` and its stored digest, so a new
    password makes every older entry unreachable at once. The digest is in the key because
    two password changes can carry the same timestamp (a fixed sandbox clock) while their
    digests, salted at random, always differ. The candidate enters only as an HMAC under a
    per-process random key: a memory dump then yields nothing a fast offline guess could
    test, unlike a plain SHA-256 of the password.
    """

    def __init__(self, max_entries: int = CACHE_ENTRIES_MAX) -> None:
        self._max_entries = max(max_entries, 1)
        self._entries: OrderedDict[tuple[int, float, str, bytes], None] = OrderedDict()
        self._lock = threading.Lock()
        self._key = secrets.token_bytes(32)

    def _entry(self, operator: OperatorRecord, candidate: str) -> tuple[int, float, str, bytes]:
        tag = hmac.new(self._key, candidate.encode(), hashlib.sha256).digest()
        return (operator.id, operator.password_changed_at, operator.password_digest, tag)

    def contains(self, operator: OperatorRecord, candidate: str) -> bool:
        entry = self._entry(operator, candidate)
        with self._lock:
            if entry not in self._entries:
                return False
            self._entries.move_to_end(entry)
            return True

    def add(self, operator: OperatorRecord, candidate: str) -> None:
        entry = self._entry(operator, candidate)
        with self._lock:
            self._entries[entry] = None
            self._entries.move_to_end(entry)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


# The process's cache; tests and benchmarks pass their own.
DEFAULT_CACHE = VerificationCache()


@cache
def _unknown_operator_digest() -> str:
    # Built on first use, not at import: deriving it costs as much as a check.
    return pin_digest("pesabox-unknown-operator", salt="unknown")


def check_initiator(
    conn: Connection,
    *,
    shortcode: str,
    username: str,
    password_candidates: tuple[str, ...],
    role: OperatorRole | None,
    now: float,
    kind: OperatorKind = OperatorKind.API,
    max_age_days: int = PASSWORD_MAX_AGE_DAYS_DEFAULT,
    lockout_threshold: int = LOCKOUT_THRESHOLD_DEFAULT,
    cache: VerificationCache = DEFAULT_CACHE,
    password_matches: PasswordCheck = pin_matches,
) -> InitiatorVerdict:
    """The verdict on initiator `username` of `shortcode` acting in `role` (module docstring).

    The org portal's sign-in asks the same of a web operator (`kind` web, `role` None: any
    of its roles will do), so both channels share one lockout and one password age.
    """
    with _transaction(conn):
        operator = operators_store.get_operator(conn, shortcode=shortcode, username=username)
    if operator is None or operator.locked:
        for candidate in password_candidates:
            password_matches(candidate, _unknown_operator_digest())
        _pad_refusal_work(len(password_candidates), password_matches)
        if operator is None:
            return InitiatorVerdict(InitiatorOutcome.INVALID, "unknown operator")
        return InitiatorVerdict(InitiatorOutcome.LOCKED, "operator locked", operator.id)
    if not _password_verified(operator, password_candidates, cache, password_matches):
        _pad_refusal_work(len(password_candidates), password_matches)
        with _transaction(conn):
            failure = operators_store.record_failure(
                conn,
                operator_id=operator.id,
                password_changed_at=operator.password_changed_at,
                threshold=lockout_threshold,
                now=now,
            )
        if failure.locked:
            return InitiatorVerdict(InitiatorOutcome.LOCKED, "wrong password; locked", operator.id)
        return InitiatorVerdict(InitiatorOutcome.INVALID, "wrong password", operator.id)
    verdict = _authorisation(operator, role=role, kind=kind, now=now, max_age_days=max_age_days)
    if verdict.ok and operator.failed_attempts > 0:
        with _transaction(conn):
            operators_store.record_success(conn, operator_id=operator.id)
    return verdict


def _password_verified(
    operator: OperatorRecord,
    candidates: tuple[str, ...],
    cache: VerificationCache,
    password_matches: PasswordCheck,
) -> bool:
    # The cache is asked about every candidate before any is stretched: a client that
    # appends a fresh timestamp each call misses on the first candidate every time, but hits
    # on the second, the password without the timestamp.
    if any(cache.contains(operator, candidate) for candidate in candidates):
        return True
    for candidate in candidates:
        if password_matches(candidate, operator.password_digest):
            cache.add(operator, candidate)
            return True
    return False


def _pad_refusal_work(done: int, password_matches: PasswordCheck) -> None:
    for _ in range(done, REFUSAL_WORK_MIN):
        password_matches("", _unknown_operator_digest())


def _authorisation(
    operator: OperatorRecord,
    *,
    role: OperatorRole | None,
    kind: OperatorKind,
    now: float,
    max_age_days: int,
) -> InitiatorVerdict:
    """What a right password still has to pass: channel, role, then age."""
    if operator.kind is not kind:
        return InitiatorVerdict(
            InitiatorOutcome.INVALID, f"{operator.kind.value} operator", operator.id
        )
    if role is not None and role not in operator.roles:
        return InitiatorVerdict(
            InitiatorOutcome.NOT_ALLOWED, f"missing role {role.value}", operator.id
        )
    if password_expired(
        password_changed_at=operator.password_changed_at, now=now, max_age_days=max_age_days
    ):
        return InitiatorVerdict(InitiatorOutcome.EXPIRED, "password expired", operator.id)
    return InitiatorVerdict(InitiatorOutcome.OK, "ok", operator.id)


@contextmanager
def _transaction(conn: Connection) -> Iterator[None]:
    """A db transaction of its own, unless the caller already holds one."""
    if conn.in_transaction():
        yield
        return
    with conn.begin():
        yield
