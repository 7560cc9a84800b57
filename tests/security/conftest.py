"""Key pairs are slow to make (tens of milliseconds each), so a module makes its pair once."""

from __future__ import annotations

import time

import pytest

from pesabox.security.certificates import CertificateMaterial, new_certificate_material


@pytest.fixture(scope="module")
def materials() -> dict[str, CertificateMaterial]:
    now = time.time()
    return {
        environment: new_certificate_material(environment, now=now)
        for environment in ("sandbox", "production")
    }
