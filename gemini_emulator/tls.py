"""A throwaway certificate authority and a server certificate for 127.0.0.1 and localhost."""

from __future__ import annotations

import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class EmulatorCertificate:
    """The server's TLS context, and the CA file a client must trust."""

    server_context: ssl.SSLContext
    ca_file: Path

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


def make_certificate(directory: Path | None = None) -> EmulatorCertificate:
    """Generate a CA and a certificate with SANs ``localhost`` and ``127.0.0.1``; write the CA to a PEM file."""
    authority = trustme.CA()
    issued = authority.issue_cert("localhost", "127.0.0.1")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    issued.configure_cert(server_context)
    folder = directory or Path(tempfile.mkdtemp(prefix="gemini-emulator-"))
    ca_file = folder / "emulator-ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    return EmulatorCertificate(server_context=server_context, ca_file=ca_file)
