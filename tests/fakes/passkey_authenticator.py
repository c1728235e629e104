"""A software passkey authenticator for tests: real P-256 keys, real ES256 signatures.

It answers the options py_webauthn makes as a browser and a platform authenticator would (a
"none" attestation, user present and verified), so the service's checks run on genuine
cryptography. Each answer's origin, RP ID, user verification and sign count can be set wrong
on purpose, to show that the service refuses it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import bytes_to_base64url, encode_cbor

UP, UV, AT = 0x01, 0x04, 0x40


@dataclass
class Credential:
    credential_id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


@dataclass
class SoftwareAuthenticator:
    """Holds its passkeys (discoverable: sign-in picks the one for the RP ID)."""

    credentials: list[Credential] = field(default_factory=list)

    def register(
        self,
        options_json: str,
        *,
        origin: str,
        rp_id: str | None = None,
        user_verified: bool = True,
    ) -> str:
        """The JSON ``navigator.credentials.create`` would give for ``options_json``."""
        options = json.loads(options_json)
        rp_id = rp_id or options["rp"]["id"]
        key = ec.generate_private_key(ec.SECP256R1())
        credential = Credential(
            credential_id=secrets.token_bytes(32),
            key=key,
            rp_id=rp_id,
            user_handle=_b64decode(options["user"]["id"]),
        )
        self.credentials.append(credential)
        numbers = key.public_key().public_numbers()
        cose_key = encode_cbor(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([UP | AT | (UV if user_verified else 0)])
            + credential.sign_count.to_bytes(4, "big")
            + bytes(16)  # AAGUID: none
            + len(credential.credential_id).to_bytes(2, "big")
            + credential.credential_id
            + cose_key
        )
        client_data = _client_data("webauthn.create", options["challenge"], origin)
        attestation = encode_cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return json.dumps(
            {
                "id": bytes_to_base64url(credential.credential_id),
                "rawId": bytes_to_base64url(credential.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": bytes_to_base64url(client_data),
                    "attestationObject": bytes_to_base64url(attestation),
                    "transports": ["internal"],
                },
                "clientExtensionResults": {},
                "authenticatorAttachment": "platform",
            }
        )

    def sign_in(
        self,
        options_json: str,
        *,
        origin: str,
        rp_id: str | None = None,
        user_verified: bool = True,
        sign_count: int | None = None,
        credential: Credential | None = None,
    ) -> str:
        """The JSON ``navigator.credentials.get`` would give: signed by the (last) passkey for
        the options' RP ID, unless ``credential`` names one."""
        options = json.loads(options_json)
        credential = credential or self.credentials[-1]
        rp_id = rp_id or options["rpId"]
        credential.sign_count = credential.sign_count + 1 if sign_count is None else sign_count
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([UP | (UV if user_verified else 0)])
            + credential.sign_count.to_bytes(4, "big")
        )
        client_data = _client_data("webauthn.get", options["challenge"], origin)
        signature = credential.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return json.dumps(
            {
                "id": bytes_to_base64url(credential.credential_id),
                "rawId": bytes_to_base64url(credential.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": bytes_to_base64url(client_data),
                    "authenticatorData": bytes_to_base64url(auth_data),
                    "signature": bytes_to_base64url(signature),
                    "userHandle": bytes_to_base64url(credential.user_handle),
                },
                "clientExtensionResults": {},
                "authenticatorAttachment": "platform",
            }
        )


def _client_data(kind: str, challenge: str, origin: str) -> bytes:
    return json.dumps(
        {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
    ).encode()


def _b64decode(value: str) -> bytes:
    from webauthn import base64url_to_bytes

    return base64url_to_bytes(value)
