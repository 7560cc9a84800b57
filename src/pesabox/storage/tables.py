"""Every table, as SQLAlchemy Core objects on one MetaData. Times are epoch seconds (float).

Ledger tables (`accounts`, `transfers`) follow one rule: transfers are never updated or
deleted, and an account's running totals change only in the db transaction that appends
the transfer that moves them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

# --- integrators ------------------------------------------------------------------------

apps = Table(
    "apps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("consumer_key", String(64), nullable=False, unique=True),
    Column("secret_digest", String(128), nullable=False),
    # Comma-separated product names (`mpesa_express`, `c2b`, ...): what the app may call.
    Column("products", String(500), nullable=False),
    Column("created_at", Float, nullable=False),
    # Production apps belong to the organisation that went live with them (issue 6); the
    # mutual-TLS listener only accepts that organisation's client certificate for them.
    # Sandbox apps belong to no organisation.
    Column("organisation_id", Integer, ForeignKey("organisations.id"), nullable=True),
)

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("token", String(64), primary_key=True),
    Column("app_id", Integer, ForeignKey("apps.id"), nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("created_at", Float, nullable=False),
)

# --- parties ----------------------------------------------------------------------------

customers = Table(
    "customers",
    metadata,
    Column("msisdn", String(12), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("pin_digest", String(128), nullable=False),
    Column("status", String(16), nullable=False, server_default="active"),
    Column("created_at", Float, nullable=False),
    # Issue 5 (migration 0007): what Bonga PIN vetting checks, and the Bonga PIN's state.
    Column("national_id", String(20), nullable=True),
    # prepay | postpay: a postpay line sets its Bonga PIN by calling 200, not at *126*5#.
    Column("line_type", String(8), nullable=False, server_default="prepay"),
    Column("bonga_pin_digest", String(128), nullable=True),
    Column("bonga_pin_failures", Integer, nullable=False, server_default=text("0")),
    Column("bonga_pin_locked", Boolean, nullable=False, server_default=false()),
    # Migration 0010: wrong *126*5# vetting answers, and wrong M-PESA PINs, each with a lock.
    Column("bonga_vetting_failures", Integer, nullable=False, server_default=text("0")),
    Column("bonga_vetting_locked", Boolean, nullable=False, server_default=false()),
    Column("pin_failures", Integer, nullable=False, server_default=text("0")),
    Column("pin_locked", Boolean, nullable=False, server_default=false()),
)

organisations = Table(
    "organisations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
)

shortcodes = Table(
    "shortcodes",
    metadata,
    Column("shortcode", String(10), primary_key=True),
    Column("organisation_id", Integer, ForeignKey("organisations.id"), nullable=False),
    # paybill | till | store (a till's head office, the number STK pushes use)
    Column("kind", String(10), nullable=False),
    Column("name", String(100), nullable=False),
    # The Lipa Na M-Pesa Online passkey; only shortcodes enabled for STK have one.
    Column("passkey", String(128), nullable=True),
    # For a till: the store (head office) shortcode it belongs to.
    Column("store_shortcode", String(10), nullable=True),
    # Who pays the transaction fee: customer_bouquet | business_bouquet | mgao | mauzo.
    Column("tariff_profile", String(20), nullable=False),
    Column("created_at", Float, nullable=False),
    # Comma-separated API services on this shortcode: c2b, b2c, b2b (C2B and B2C never both).
    Column("products", String(50), nullable=False, server_default="c2b"),
    # External validation of C2B payments: off until the owner asks, as on M-Pesa.
    Column("validation_enabled", Boolean, nullable=False, server_default=false()),
)

operators = Table(
    "operators",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # Operators sign in with their organisation's shortcode and their username.
    Column("shortcode", String(10), ForeignKey("shortcodes.shortcode"), nullable=False),
    Column("username", String(64), nullable=False),
    # api (an initiator: calls B2C, B2B, balance, status, reversal) | web (the org portal)
    Column("kind", String(8), nullable=False),
    # A slow hash (PBKDF2); the password itself is never stored.
    Column("password_digest", String(128), nullable=False),
    # Comma-separated role names, as the org portal grants them.
    Column("roles", String(500), nullable=False),
    # Credential failures in a row; at the limit the operator is locked (result 8006).
    Column("failed_attempts", Integer, nullable=False, server_default=text("0")),
    Column("locked_at", Float, nullable=True),
    Column("password_changed_at", Float, nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("shortcode", "username", name="uq_operators_shortcode_username"),
)

# One RSA key pair and certificate per environment: initiators encrypt their password with
# the certificate, the gateway decrypts the SecurityCredential with the key.
certificates = Table(
    "certificates",
    metadata,
    Column("environment", String(12), primary_key=True),
    Column("private_key_pem", Text, nullable=False),
    Column("certificate_pem", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

# --- ledger -----------------------------------------------------------------------------

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # Stable name, e.g. `wallet:254708374149`, `utility:174379`, `platform:revenue`.
    Column("code", String(64), nullable=False, unique=True),
    Column("kind", String(24), nullable=False),
    Column("owner", String(32), nullable=False),
    Column("debits_posted", BigInteger, nullable=False, server_default=text("0")),
    Column("credits_posted", BigInteger, nullable=False, server_default=text("0")),
    Column("debits_pending", BigInteger, nullable=False, server_default=text("0")),
    Column("credits_pending", BigInteger, nullable=False, server_default=text("0")),
    # Bounds on credits - debits; NULL means unbounded on that side.
    Column("min_balance_cents", BigInteger, nullable=True),
    Column("max_balance_cents", BigInteger, nullable=True),
    Column("created_at", Float, nullable=False),
)

transfers = Table(
    "transfers",
    metadata,
    # Chosen by the caller, derived from the business transaction: a replay finds it.
    Column("id", String(80), primary_key=True),
    Column("debit_account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("credit_account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    # posted | pending | post_pending | void_pending
    Column("phase", String(16), nullable=False),
    # For post_pending / void_pending: the reservation it resolves, at most once.
    Column("pending_id", String(80), ForeignKey("transfers.id"), nullable=True, unique=True),
    # The business transaction (e.g. a CheckoutRequestID) these transfers belong to.
    Column("transaction_id", String(80), nullable=True),
    # principal | fee | funding | reversal
    Column("purpose", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_transfers_transaction_id", "transaction_id"),
    # An account's statement reads its newest transfers first, so the account indexes carry
    # the time too: a statement of the float account must not scan all its transfers.
    Index("ix_transfers_debit_account_id_created_at", "debit_account_id", "created_at"),
    Index("ix_transfers_credit_account_id_created_at", "credit_account_id", "created_at"),
)

daily_totals = Table(
    "daily_totals",
    metadata,
    Column("account_id", Integer, ForeignKey("accounts.id"), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("debits_cents", BigInteger, nullable=False),
)

# --- business transactions ---------------------------------------------------------------

stk_requests = Table(
    "stk_requests",
    metadata,
    Column("checkout_request_id", String(64), primary_key=True),
    Column("merchant_request_id", String(64), nullable=False, unique=True),
    Column("app_id", Integer, ForeignKey("apps.id"), nullable=False),
    Column("business_shortcode", String(10), nullable=False),
    Column("party_b", String(10), nullable=False),
    Column("transaction_type", String(32), nullable=False),
    Column("msisdn", String(12), nullable=False),
    Column("party_a", String(20), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("account_reference", String(64), nullable=False),
    Column("description", String(64), nullable=False),
    Column("callback_url", Text, nullable=False),
    # pending | completed | failed
    Column("status", String(12), nullable=False),
    # What the simulated customer will do if nobody acts on the handset first.
    Column("planned_action", String(16), nullable=False),
    Column("planned_result_code", Integer, nullable=True),
    Column("due_at", Float, nullable=True),
    Column("expires_at", Float, nullable=False),
    Column("callback_mode", String(12), nullable=False, server_default="deliver"),
    Column("callback_fail_times", Integer, nullable=False, server_default=text("0")),
    Column("callback_delay_s", Float, nullable=False, server_default=text("0")),
    Column("result_code", Integer, nullable=True),
    Column("result_desc", String(200), nullable=True),
    Column("receipt", String(10), nullable=True, unique=True),
    Column("created_at", Float, nullable=False),
    Column("completed_at", Float, nullable=True),
    # One pending prompt per subscriber: the database enforces M-Pesa's subscriber lock.
    Index(
        "uq_stk_requests_pending_msisdn",
        "msisdn",
        unique=True,
        sqlite_where=text("status = 'pending'"),
        postgresql_where=text("status = 'pending'"),
    ),
    Index(
        "ix_stk_requests_pending_due_at",
        "due_at",
        sqlite_where=text("status = 'pending'"),
        postgresql_where=text("status = 'pending'"),
    ),
)

c2b_registrations = Table(
    "c2b_registrations",
    metadata,
    Column("shortcode", String(10), ForeignKey("shortcodes.shortcode"), primary_key=True),
    Column("app_id", Integer, ForeignKey("apps.id"), nullable=False),
    # v1 | v2: the registerurl path used, which picks the default MSISDN representation.
    Column("api_version", String(4), nullable=False),
    # Completed | Cancelled: what happens when the ValidationURL does not answer in time.
    Column("response_type", String(10), nullable=False),
    Column("confirmation_url", Text, nullable=False),
    Column("validation_url", Text, nullable=False),
    # full | masked | hashed: how the payer's MSISDN appears in validation and confirmation.
    Column("msisdn_format", String(8), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

c2b_payments = Table(
    "c2b_payments",
    metadata,
    # The M-Pesa receipt, allocated when the payment starts: validation already carries it.
    Column("trans_id", String(10), primary_key=True),
    Column("shortcode", String(10), nullable=False),
    # Pay Bill | Buy Goods
    Column("transaction_type", String(16), nullable=False),
    # handset | simulate | qr
    Column("channel", String(10), nullable=False),
    Column("msisdn", String(12), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("bill_ref_number", String(20), nullable=False),
    Column("first_name", String(50), nullable=False),
    Column("middle_name", String(50), nullable=False),
    Column("last_name", String(50), nullable=False),
    # validating | completed | cancelled | failed
    Column("status", String(12), nullable=False),
    # The registration as it was when the payment started (later changes do not apply).
    Column("response_type", String(10), nullable=True),
    Column("validation_url", Text, nullable=True),
    Column("confirmation_url", Text, nullable=True),
    Column("msisdn_format", String(8), nullable=True),
    # When the validation answer stops counting and ResponseType decides.
    Column("validation_deadline", Float, nullable=True),
    # What validation said: the business's ResultCode, or timeout | unreachable | bad_answer.
    Column("validation_result", String(16), nullable=True),
    Column("third_party_trans_id", String(64), nullable=True),
    Column("result_code", Integer, nullable=True),
    Column("result_desc", String(200), nullable=True),
    Column("customer_fee_cents", BigInteger, nullable=False, server_default=text("0")),
    Column("business_fee_cents", BigInteger, nullable=False, server_default=text("0")),
    Column("org_balance_cents", BigInteger, nullable=True),
    # The caller's Idempotency-Key: a retried request finds the first payment.
    Column("idempotency_key", String(80), nullable=True, unique=True),
    Column("app_id", Integer, ForeignKey("apps.id"), nullable=True),
    Column("callback_mode", String(12), nullable=False, server_default="deliver"),
    Column("callback_fail_times", Integer, nullable=False, server_default=text("0")),
    Column("callback_delay_s", Float, nullable=False, server_default=text("0")),
    Column("validation_mode", String(12), nullable=False, server_default="deliver"),
    Column("created_at", Float, nullable=False),
    Column("completed_at", Float, nullable=True),
    Index("ix_c2b_payments_shortcode_created_at", "shortcode", "created_at"),
    # Pull Transactions pages through a shortcode's completed payments by completion time.
    Index(
        "ix_c2b_payments_completed_shortcode_completed_at",
        "shortcode",
        "completed_at",
        sqlite_where=text("status = 'completed'"),
        postgresql_where=text("status = 'completed'"),
    ),
    Index(
        "ix_c2b_payments_validating_deadline",
        "validation_deadline",
        sqlite_where=text("status = 'validating'"),
        postgresql_where=text("status = 'validating'"),
    ),
)

pull_registrations = Table(
    "pull_registrations",
    metadata,
    Column("shortcode", String(10), ForeignKey("shortcodes.shortcode"), primary_key=True),
    Column("request_type", String(16), nullable=False),
    Column("nominated_number", String(12), nullable=False),
    Column("callback_url", Text, nullable=False),
    Column("response_ref_id", String(64), nullable=False),
    Column("app_id", Integer, ForeignKey("apps.id"), nullable=False),
    Column("created_at", Float, nullable=False),
)

initiator_requests = Table(
    "initiator_requests",
    metadata,
    # The ConversationID pesabox answers with (AG_...): the request's own id.
    Column("conversation_id", String(40), primary_key=True),
    # The caller's (B2C v3, B2Pochi) or pesabox's own; unique per app: the idempotency key.
    Column("originator_conversation_id", String(100), nullable=False),
    Column("app_id", Integer, ForeignKey("apps.id"), nullable=False),
    # b2c | b2pochi | b2b | balance | status | reversal | tax
    Column("api", String(16), nullable=False),
    Column("command_id", String(40), nullable=False),
    Column("initiator", String(64), nullable=False),
    Column("party_a", String(20), nullable=False),
    Column("party_b", String(20), nullable=True),
    Column("amount_cents", BigInteger, nullable=True),
    Column("remarks", String(100), nullable=False),
    Column("occasion", String(100), nullable=False),
    Column("result_url", Text, nullable=False),
    Column("queue_timeout_url", Text, nullable=False),
    # The API's other fields as JSON (AccountReference, identifier types, ...).
    Column("details", Text, nullable=False),
    # SHA-256 of the request as sent: a replay of the same OriginatorConversationID is the
    # same request only if this matches.
    Column("request_digest", String(64), nullable=False),
    # queued | completed | failed | timed_out
    Column("status", String(12), nullable=False),
    # Strings: M-Pesa's codes include "SFC_IC0003" and "R000002".
    Column("result_code", String(16), nullable=True),
    Column("result_desc", String(200), nullable=True),
    Column("transaction_id", String(10), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("completed_at", Float, nullable=True),
    UniqueConstraint(
        "app_id", "originator_conversation_id", name="uq_initiator_requests_app_id_originator"
    ),
    Index(
        "ix_initiator_requests_queued_created_at",
        "created_at",
        sqlite_where=text("status = 'queued'"),
        postgresql_where=text("status = 'queued'"),
    ),
    Index("ix_initiator_requests_transaction_id", "transaction_id"),
)

# Airtime bought with M-PESA, per number topped up: Bonga PIN vetting reads the last one.
airtime_topups = Table(
    "airtime_topups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("msisdn", String(12), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("paid_by", String(12), nullable=False),
    Column("receipt", String(10), nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_airtime_topups_msisdn_created_at", "msisdn", "created_at"),
)

# What a customer did from the handset's own menus (Send Money, Buy Airtime, Bonga): the
# receipt, the outcome, and the Idempotency-Key that makes a replay return the same outcome.
handset_transactions = Table(
    "handset_transactions",
    metadata,
    Column("receipt", String(10), primary_key=True),
    # send_money | airtime | data_bundle | bonga_transfer
    Column("kind", String(16), nullable=False),
    Column("msisdn", String(12), nullable=False),
    # The other party: an MSISDN, or a bundle's code.
    Column("counterparty", String(40), nullable=False),
    # Cents for money, whole points for a Bonga transfer.
    Column("amount", BigInteger, nullable=False),
    Column("fee_cents", BigInteger, nullable=False, server_default=text("0")),
    Column("result_code", Integer, nullable=False),
    Column("result_desc", String(200), nullable=False),
    Column("idempotency_key", String(200), nullable=True, unique=True),
    Column("created_at", Float, nullable=False),
    Index("ix_handset_transactions_msisdn_created_at", "msisdn", "created_at"),
)

sms_messages = Table(
    "sms_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("msisdn", String(12), nullable=False),
    Column("sender", String(20), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_sms_messages_msisdn", "msisdn"),
)

# --- sandbox ----------------------------------------------------------------------------

scenarios = Table(
    "scenarios",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False),
    Column("msisdn", String(12), nullable=True),
    Column("amount_cents", BigInteger, nullable=True),
    # accept | decline | ignore | wrong_pin | expire | push_error | result
    Column("action", String(16), nullable=False),
    Column("result_code", Integer, nullable=True),
    Column("delay_s", Float, nullable=True),
    # deliver | never | fail | slow
    Column("callback_mode", String(12), nullable=False),
    Column("callback_fail_times", Integer, nullable=False, server_default=text("0")),
    Column("callback_delay_s", Float, nullable=False, server_default=text("0")),
    # C2B only: deliver | slow (held back past the timeout) | down (the URL is unreachable)
    Column("validation_mode", String(12), nullable=False, server_default="deliver"),
    Column("description", String(200), nullable=False),
    # builtin (seeded) | runtime (set through the control API); runtime rules win.
    Column("source", String(10), nullable=False),
    Column("created_at", Float, nullable=False),
)

sandbox_state = Table(
    "sandbox_state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(200), nullable=False),
)

# --- callbacks --------------------------------------------------------------------------

callbacks = Table(
    "callbacks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # The business transaction it reports on (CheckoutRequestID for STK).
    Column("transaction_id", String(80), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("url", Text, nullable=False),
    Column("payload", Text, nullable=False),
    # pending | delivered | failed | suppressed
    Column("status", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("max_attempts", Integer, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    # A worker owns a claimed row until this time; a crashed worker's claim lapses.
    Column("claimed_until", Float, nullable=True),
    # Scenario behaviour: answer the first N attempts with a failure; hold each POST back.
    Column("fail_first", Integer, nullable=False, server_default=text("0")),
    Column("delay_s", Float, nullable=False, server_default=text("0")),
    Column("created_at", Float, nullable=False),
    Column("delivered_at", Float, nullable=True),
    Column("last_error", Text, nullable=True),
    Index("ix_callbacks_status_next_attempt_at", "status", "next_attempt_at"),
    Index("ix_callbacks_transaction_id", "transaction_id"),
)

callback_attempts = Table(
    "callback_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("callback_id", Integer, ForeignKey("callbacks.id"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("target_url", Text, nullable=False),
    Column("started_at", Float, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("response_excerpt", String(512), nullable=True),
    Column("error", Text, nullable=True),
    # delivered | retry | give_up
    Column("outcome", String(12), nullable=False),
    UniqueConstraint("callback_id", "attempt", name="uq_callback_attempts_callback_id_attempt"),
)

# --- the inspector ----------------------------------------------------------------------

# Inbound API requests as the inspector shows them: bounded, redacted excerpts, written in
# batches off the request path and pruned to the newest rows (`PESABOX_INSPECTOR_RETENTION`).
inspector_requests = Table(
    "inspector_requests",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("received_at", Float, nullable=False),
    Column("method", String(10), nullable=False),
    Column("path", String(255), nullable=False),
    Column("app_id", Integer, nullable=True),
    Column("app_name", String(100), nullable=True),
    Column("status_code", Integer, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("request_body", Text, nullable=False),
    Column("response_body", Text, nullable=False),
    # ResponseCode, errorCode or ResultCode from the answer, whichever it carries.
    Column("result_code", String(40), nullable=True),
    Column("checkout_request_id", String(80), nullable=True),
    Column("merchant_request_id", String(80), nullable=True),
    Column("conversation_id", String(80), nullable=True),
    Column("originator_conversation_id", String(100), nullable=True),
    Column("trans_id", String(40), nullable=True),
    Column("shortcode", String(20), nullable=True),
    Column("msisdn", String(20), nullable=True),
    # No secondary indexes: filters scan at most the retained rows, and each index would
    # cost every recorded request more to write (see migration 0009).
)

# --- organisation side (issue 5): bank details, withdrawals, portal sessions ---------------

# The bank account an organisation registered at onboarding; withdrawals are paid there.
bank_accounts = Table(
    "bank_accounts",
    metadata,
    Column("organisation_id", Integer, ForeignKey("organisations.id"), primary_key=True),
    Column("bank_name", String(100), nullable=False),
    Column("branch", String(100), nullable=False),
    Column("account_number", String(34), nullable=False),
    Column("account_name", String(100), nullable=False),
    Column("updated_at", Float, nullable=False),
)

withdrawals = Table(
    "withdrawals",
    metadata,
    # The M-Pesa receipt of the withdrawal, allocated when the money leaves M-Pesa.
    Column("id", String(10), primary_key=True),
    Column("shortcode", String(10), ForeignKey("shortcodes.shortcode"), nullable=False),
    Column("operator_id", Integer, ForeignKey("operators.id"), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    # The bank account as it was when the withdrawal was made (later changes do not apply).
    Column("bank_name", String(100), nullable=False),
    Column("branch", String(100), nullable=False),
    Column("account_number", String(34), nullable=False),
    Column("account_name", String(100), nullable=False),
    # pending (left M-Pesa, not yet at the bank) | settled
    Column("status", String(10), nullable=False),
    # The Kenyan business day (YYYY-MM-DD) the bank is credited, and when that day starts.
    Column("settle_on", String(10), nullable=False),
    Column("due_at", Float, nullable=False),
    Column("settled_at", Float, nullable=True),
    Column("bank_reference", String(32), nullable=True, unique=True),
    # The form's one-time token: a resubmitted form finds the first withdrawal.
    Column("idempotency_key", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint(
        "shortcode", "idempotency_key", name="uq_withdrawals_shortcode_idempotency_key"
    ),
    Index("ix_withdrawals_shortcode_created_at", "shortcode", "created_at"),
    Index("ix_withdrawals_settle_on", "settle_on"),
    Index(
        "ix_withdrawals_pending_due_at",
        "due_at",
        sqlite_where=text("status = 'pending'"),
        postgresql_where=text("status = 'pending'"),
    ),
)

# Server-side sessions of the organisation portal. Only a digest of the cookie's token is
# kept, so a copy of the table signs nobody in.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_digest", String(64), primary_key=True),
    Column("operator_id", Integer, ForeignKey("operators.id"), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Index("ix_web_sessions_operator_id", "operator_id"),
)
