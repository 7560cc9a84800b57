"""Onboarding: developers, their applications and documents, LNMO applications (issue 6).

Tables live beside `tables.py` on its `metadata`; `schema.py` imports every such module.
"""

from __future__ import annotations

from pesabox.storage.tables import metadata

__all__ = ["metadata"]
