"""Phase G of the benchmark: phases C and E again, over TLS (see docs/benchmark.md).

- **STK over https**: phase C's end-to-end STK load, sent to the sandbox's https listener
  (1-way TLS, the broker certificate `testbroker`, verified against the platform CA's trust
  bundle), on its own fresh copy of the database. Callbacks go to the receiver over plain
  http, as in C, so only the inbound transport differs.
- **B2C over mutual TLS**: phase E's payouts, from a production business (bench/
  production_fixture.py) to production's mutual-TLS listener, presenting the organisation's
  client certificate. Production's callback URLs must be https, so the Results go to the
  receiver's https listener, which serves the same organisation's certificate.

Both reuse their connections (opened and handshaken before the window, kept alive), at the
concurrency of C and E. The figures are ratios to C and E of the same run.

This module holds what is particular to phase G: the servers' settings, the load
generator's jobs and the figures; bench/run.py runs it with its own servers and receivers.
"""

from __future__ import annotations

from typing import Any

HTTPS_TARGETS = {"stk_https_per_plain": 0.7, "b2c_mtls_per_plain": 0.7}
# Phase G's receiver buckets, apart from C's and E's.
STK_BUCKET = "e2e-https"
B2C_BUCKET = "payout-mtls"


def stk_server_env(https_port: int) -> dict[str, str]:
    """The sandbox, as in phase C, with its https listener on `https_port`."""
    return {"PESABOX_HTTPS_PORT": str(https_port)}


def b2c_server_env(production_db_url: str, tls_port: int, mtls_port: int) -> dict[str, str]:
    """Production alone, on its own database, with its two TLS listeners.

    Recording is on, as it is by default in the sandbox that phase E measures (production
    leaves it off): otherwise the ratio would credit TLS with the recording's cost."""
    return {
        "PESABOX_ENVIRONMENTS": "production",
        "PESABOX_PRODUCTION_DATABASE_URL": production_db_url,
        "PESABOX_PRODUCTION_PORT": str(tls_port),
        "PESABOX_PRODUCTION_MTLS_PORT": str(mtls_port),
        "PESABOX_HTTPS_PORT": "off",
        "PESABOX_INSPECTOR_RECORD": "true",
    }


def stk_job(plain_job: dict[str, Any], base_url: str, trust_bundle_file: str) -> dict[str, Any]:
    """Phase C's job, sent over https to `base_url`; its callbacks in a bucket of their own."""
    return {
        **plain_job,
        "base_url": base_url,
        "tls": {"ca_file": trust_bundle_file},
        "bucket": STK_BUCKET,
        "callback_url": f"{plain_job['receiver_url']}/cb/{STK_BUCKET}",
    }


def b2c_job(
    plain_job: dict[str, Any],
    *,
    base_url: str,
    business: dict[str, Any],
    receiver_pid: int,
    receiver_url: str,
    receiver_https_url: str,
    payees: int,
) -> dict[str, Any]:
    """Phase E's job, from the production business, over mutual TLS to `base_url`.

    The payees are production's bulk customers 0..`payees` (as many as E pays, seeded in
    production's database only as far as needed)."""
    return {
        **plain_job,
        "base_url": base_url,
        "tls": {
            "ca_file": business["trust_bundle_file"],
            "cert_file": business["cert_file"],
            "key_file": business["key_file"],
        },
        "consumer_key": business["consumer_key"],
        "consumer_secret": business["consumer_secret"],
        "initiator": business["initiator"],
        "security_credential": business["security_credential"],
        "shortcode": business["b2c_shortcode"],
        "receiver_pid": receiver_pid,
        "receiver_url": receiver_url,
        "callback_base_url": receiver_https_url,
        "bucket": B2C_BUCKET,
        "msisdn_first": 0,
        "msisdn_stop": payees,
    }


def _per_us(cpu: dict[str, float], ops: float) -> float | None:
    server = cpu.get("server")
    if server is None or ops <= 0:
        return None
    return round(server / ops * 1e6, 1)


def b2c_clean(e: dict[str, Any]) -> bool:
    """Every accepted payout got exactly one Result, a successful one, none timed out."""
    return (
        e["lost"] == 0
        and e["duplicates"] == 0
        and e["unknown_results"] == 0
        and e["queue_timeouts"] == 0
        and e["results_unique"] == e["matched"] == e["accepted"]
        and e["result_codes"] == {"0": e["accepted"]}
    )


def tls_figures(e2e: dict[str, Any], b2c: dict[str, Any], tls: dict[str, Any]) -> dict[str, Any]:
    """Phase G's rates, per-payment server CPU and ratios to phases C and E."""
    stk, mtls = tls["stk_https"], tls["b2c_mtls"]
    plain_stk, plain_b2c = e2e["completed_per_s"], b2c["completed_per_s"]
    return {
        "stk_https_payments_per_s": stk["completed_per_s"],
        "stk_https_accepted": stk["accepted"],
        "stk_https_lost": stk["lost"],
        "stk_https_duplicates": stk["duplicates"],
        "stk_https_per_plain": (
            round(stk["completed_per_s"] / plain_stk, 3) if plain_stk else None
        ),
        "server_cpu_us_per_plain_payment": _per_us(e2e["cpu_s"], e2e["completed_in_window"]),
        "server_cpu_us_per_https_payment": _per_us(stk["cpu_s"], stk["completed_in_window"]),
        "b2c_mtls_payouts_per_s": mtls["completed_per_s"],
        "b2c_mtls_accepted": mtls["accepted"],
        "b2c_mtls_results_unique": mtls["results_unique"],
        "b2c_mtls_lost": mtls["lost"],
        "b2c_mtls_duplicates": mtls["duplicates"],
        "b2c_mtls_per_plain": (
            round(mtls["completed_per_s"] / plain_b2c, 3) if plain_b2c else None
        ),
        "server_cpu_us_per_plain_payout": _per_us(b2c["cpu_s"], b2c["completed_in_window"]),
        "server_cpu_us_per_mtls_payout": _per_us(mtls["cpu_s"], mtls["completed_in_window"]),
    }


def tls_verdicts(figures: dict[str, Any], tls: dict[str, Any]) -> dict[str, bool]:
    """Each ratio against its target; a run that lost or doubled a payment misses."""
    stk, mtls = tls["stk_https"], tls["b2c_mtls"]
    stk_clean = stk["lost"] == 0 and stk["duplicates"] == 0
    return {
        "stk_https_per_plain": stk_clean
        and figures["stk_https_per_plain"] is not None
        and figures["stk_https_per_plain"] >= HTTPS_TARGETS["stk_https_per_plain"],
        "b2c_mtls_per_plain": b2c_clean(mtls)
        and figures["b2c_mtls_per_plain"] is not None
        and figures["b2c_mtls_per_plain"] >= HTTPS_TARGETS["b2c_mtls_per_plain"],
    }


def detail_lines(tls: dict[str, Any]) -> list[str]:
    """The report's detail lines for phase G, in the words of C's and E's."""
    stk, mtls = tls["stk_https"], tls["b2c_mtls"]
    return [
        f"G STK https detail: accepted {stk['accepted']:,}, callbacks "
        f"{stk['callbacks_unique']:,}, lost {stk['lost']:,}, duplicated {stk['duplicates']:,}, "
        f"unknown {stk['unknown_callbacks']:,}, push errors {stk['push_errors'] or 'none'}",
        f"G B2C mTLS detail: accepted {mtls['accepted']:,}, Results "
        f"{mtls['results_unique']:,}, lost {mtls['lost']:,}, duplicated "
        f"{mtls['duplicates']:,}, unknown {mtls['unknown_results']:,}, queue timeouts "
        f"{mtls['queue_timeouts']:,}, result codes {mtls['result_codes']}, payout errors "
        f"{mtls['payout_errors'] or 'none'}",
    ]
