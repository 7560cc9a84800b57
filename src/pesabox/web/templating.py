"""Jinja2 for the web pages: where templates live, and the filters every page shares."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
# M-Pesa's messages and statements are in East Africa Time, which has no daylight saving.
EAT = timezone(timedelta(hours=3), "EAT")


def kes(cents: int | None) -> str:
    """12345 → "123.45", -5000 → "-50.00": money as M-PESA prints it, from integer cents."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{part:02d}"


def when(epoch_s: float | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A platform timestamp (epoch seconds, sandbox clock) in East Africa Time."""
    if epoch_s is None:
        return ""
    return datetime.fromtimestamp(epoch_s, tz=UTC).astimezone(EAT).strftime(fmt)


def _configure(engine: JinjaTemplateEngine) -> None:
    engine.engine.filters["kes"] = kes
    engine.engine.filters["when"] = when


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(
        directory=TEMPLATES, engine=JinjaTemplateEngine, engine_callback=_configure
    )
