"""`pesabox orgs` and `pesabox shortcodes` through Typer's runner, against real databases."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from pesabox.cli.main import app

runner = CliRunner()


@pytest.fixture
def url(database_url: str) -> str:
    run("migrate", "--database-url", database_url)
    return database_url


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def run_json(url: str, *args: str) -> Any:
    return json.loads(run(*args, "--json", "--database-url", url))


def refused(url: str, *args: str) -> str:
    result = runner.invoke(app, [*args, "--database-url", url])
    assert result.exit_code == 2, result.output
    return " ".join(result.output.split())


def add_paybill(url: str, shortcode: str = "600100", products: str = "c2b,b2b") -> Any:
    options = ["--org", "Acme", "--kind", "paybill", "--name", "Acme PayBill"]
    options += ["--tariff-profile", "mgao", "--products", products]
    return run_json(url, "shortcodes", "add", shortcode, *options)


def test_orgs_create_and_list(url: str) -> None:
    created = run_json(url, "orgs", "create", "--name", "Acme")
    assert (created["name"], created["shortcodes"]) == ("Acme", [])
    add_paybill(url)
    listed = run_json(url, "orgs", "list")
    assert [o["name"] for o in listed] == ["Acme"]
    assert [s["shortcode"] for s in listed[0]["shortcodes"]] == ["600100"]
    table = run("orgs", "list", "--database-url", url)
    assert "Acme" in table and "600100" in table
    assert "an organisation named 'Acme' exists" in refused(url, "orgs", "create", "--name", "Acme")


def test_shortcodes_add_and_list(url: str) -> None:
    run("orgs", "create", "--name", "Acme", "--database-url", url)
    added = add_paybill(url)
    assert added == {
        "shortcode": "600100",
        "organisation": "Acme",
        "kind": "paybill",
        "name": "Acme PayBill",
        "tariff_profile": "mgao",
        "products": ["b2b", "c2b"],
        "store_shortcode": None,
        "validation_enabled": False,
        "passkey_set": False,
    }
    run("shortcodes", "add", "600200", "--org", "Acme", "--kind", "store", "--name", "HQ",
        "--tariff-profile", "mauzo", "--products", "b2b", "--passkey", "pk",
        "--database-url", url)  # fmt: skip
    till = run_json(url, "shortcodes", "add", "977400", "--org", "Acme", "--kind", "till",
                    "--name", "Till 1", "--tariff-profile", "mauzo", "--products", "c2b",
                    "--store", "600200")  # fmt: skip
    assert till["store_shortcode"] == "600200"
    listed = run_json(url, "shortcodes", "list")
    assert [(s["shortcode"], s["passkey_set"]) for s in listed] == [
        ("600100", False),
        ("600200", True),
        ("977400", False),
    ]
    assert "977400" in run("shortcodes", "list", "--database-url", url)
    balance = run("ledger", "balance", "977400", "--database-url", url)
    assert "utility:977400" in balance and "charges:977400" in balance


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--products", "c2b,b2c"], "C2B and B2C cannot share a shortcode"),
        (["--products", "c2b,b2c,b2b"], "C2B and B2C cannot share a shortcode"),
        (["--products", "teleport"], "unknown API service 'teleport'"),
        (["--kind", "till", "--store", "174380"], "a till cannot have the mgao tariff"),
        (["--org", "Nobody"], "no organisation named 'Nobody'"),
        (["--store", "600200"], "only a till belongs to a store"),
    ],
)
def test_shortcodes_add_refused(url: str, args: list[str], message: str) -> None:
    run("orgs", "create", "--name", "Acme", "--database-url", url)
    options = {"--org": "Acme", "--kind": "paybill", "--name": "X", "--tariff-profile": "mgao",
               "--products": "c2b"}  # fmt: skip
    pairs = dict(zip(args[::2], args[1::2], strict=True))
    flat = [item for pair in (options | pairs).items() for item in pair]
    assert message in refused(url, "shortcodes", "add", "600100", *flat)
    assert run_json(url, "shortcodes", "list") == []


def test_shortcodes_add_duplicate_refused(url: str) -> None:
    run("orgs", "create", "--name", "Acme", "--database-url", url)
    add_paybill(url)
    output = refused(url, "shortcodes", "add", "600100", "--org", "Acme", "--kind", "paybill",
                     "--name", "Y", "--tariff-profile", "mgao", "--products", "b2b")  # fmt: skip
    assert "shortcode 600100 exists" in output


def test_shortcodes_set_products(url: str) -> None:
    run("orgs", "create", "--name", "Acme", "--database-url", url)
    add_paybill(url)
    changed = run_json(url, "shortcodes", "set-products", "600100", "b2c,b2b")
    assert changed["products"] == ["b2b", "b2c"]
    message = refused(url, "shortcodes", "set-products", "600100", "c2b,b2c")
    assert "C2B and B2C cannot share a shortcode" in message
    assert "no shortcode 999999" in refused(url, "shortcodes", "set-products", "999999", "b2b")
    assert run_json(url, "shortcodes", "list")[0]["products"] == ["b2b", "b2c"]


def test_shortcodes_validation_switch(url: str) -> None:
    run("orgs", "create", "--name", "Acme", "--database-url", url)
    add_paybill(url)
    assert "is now on" in run("shortcodes", "validation", "600100", "on", "--database-url", url)
    assert "was already on" in run(
        "shortcodes", "validation", "600100", "ON", "--database-url", url
    )
    assert run_json(url, "shortcodes", "list")[0]["validation_enabled"] is True
    assert "is now off" in run("shortcodes", "validation", "600100", "off", "--database-url", url)
    assert "on or off, not 'maybe'" in refused(url, "shortcodes", "validation", "600100", "maybe")
    assert "no shortcode 999999" in refused(url, "shortcodes", "validation", "999999", "on")
