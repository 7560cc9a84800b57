"""The secret that signs the web pages' CSRF tokens, shared by every gateway process."""

from __future__ import annotations

import logging
import secrets

from sqlalchemy.exc import DBAPIError

from pesabox.settings import Settings
from pesabox.storage import sandbox_store
from pesabox.storage.db import read_transaction, write_transaction
from pesabox.storage.types import Engine

log = logging.getLogger(__name__)
_SECRET_STATE_KEY = "web_secret"  # noqa: S105 (the row's name, not a secret)


def web_secret(settings: Settings, engine: Engine) -> str:
    """The secret that signs CSRF tokens: from settings, else one kept in the database, so
    every gateway process accepts the tokens the others issued."""
    if settings.web_secret:
        return settings.web_secret.get_secret_value()
    try:
        return _stored_secret(engine)
    except DBAPIError:
        # No schema yet (an app built before `pesabox migrate`): pages still work in this
        # process, and a token from it is refused by others, which is safe.
        log.warning("no database secret for CSRF tokens yet; using one for this process only")
        return secrets.token_urlsafe(32)


def _stored_secret(engine: Engine) -> str:
    with read_transaction(engine) as conn:
        stored = sandbox_store.read_state(conn, _SECRET_STATE_KEY)
    if stored:
        return stored
    with write_transaction(engine) as conn:
        # Writers take turns (a file lock on SQLite, an advisory lock on PostgreSQL), so of
        # two processes starting together the second finds the first one's secret here.
        stored = sandbox_store.read_state(conn, _SECRET_STATE_KEY)
        if not stored:
            stored = secrets.token_urlsafe(32)
            sandbox_store.write_state(conn, _SECRET_STATE_KEY, stored)
    return stored
