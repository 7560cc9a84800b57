"""What a certificate CRQ needs from the platform CA: a check at submission (so a bad CSR is
refused at once and no CRQ is made) and the signing at approval, recorded with the CRQ."""

from __future__ import annotations

from collections.abc import Sequence

from pesabox.domain.change_requests import ChangeRequestError
from pesabox.security.csr_policy import CsrRefused, check_csr
from pesabox.security.pki import DEFAULT_CLIENT_CERT_VALIDITY_DAYS
from pesabox.storage import pki_store
from pesabox.storage.types import Connection


class PlatformCa:
    """The platform CA in the platform database (security/pki.py, storage/pki_store.py),
    as the CRQ service's `CertificateIssuer`."""

    def __init__(
        self,
        *,
        validity_days: int = DEFAULT_CLIENT_CERT_VALIDITY_DAYS,
        reserved_hostnames: Sequence[str] = (),
    ) -> None:
        self._validity_days = validity_days
        # The brokers' PESABOX_TLS_HOSTNAMES: no organisation's certificate may name them.
        self._reserved_hostnames = tuple(reserved_hostnames)

    def check(self, csr_pem: str, *, organisation_name: str, organisation_id: int) -> None:
        try:
            check_csr(
                csr_pem,
                organisation_name=organisation_name,
                organisation_id=organisation_id,
                reserved_hostnames=self._reserved_hostnames,
            )
        except CsrRefused as refusal:
            raise ChangeRequestError(f"the CSR is refused: {refusal.message}") from None

    def issue(
        self,
        conn: Connection,
        *,
        csr_pem: str,
        organisation_name: str,
        organisation_id: int,
        number: str,
        now: float,
    ) -> str:
        authority = pki_store.load_authority(conn)
        try:
            signed = authority.sign_csr(
                csr_pem,
                organisation_id=organisation_id,
                organisation_name=organisation_name,
                validity_days=self._validity_days,
                now=now,
                reserved_hostnames=self._reserved_hostnames,
            )
        except CsrRefused as refusal:
            # Checked at submission; only a rule that changed since (or a renamed
            # organisation) lands here, and the CRQ stays in review.
            raise ChangeRequestError(f"the CSR is refused: {refusal.message}") from None
        pki_store.record_client_certificate(
            conn,
            signed,
            organisation_id=organisation_id,
            organisation_name=organisation_name,
            change_request=number,
            now=now,
        )
        return signed.pem
