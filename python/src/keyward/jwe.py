"""The workload's ephemeral TEE key (docs/design.md "Release protocol", step 2): a key pair generated in memory
(X25519 or P-384), its RFC 7638 thumbprint, the binding SHA-512(nonce ‖ thumbprint) the evidence must
carry, and opening the released compact JWE (RFC 7516; ECDH-ES+A256KW per RFC 7518 §4.6, A256GCM)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import struct
from typing import Literal

from cryptography.exceptions import InvalidKey, InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .errors import ClientError

TeeKeyType = Literal["x25519", "p384"]
TEE_KEY_TYPES: tuple[TeeKeyType, ...] = ("x25519", "p384")

#: A nonce is opaque: 32 random bytes at least (keyward's stateless nonces are 72: randomness, expiry and
#: an HMAC), at most 128. The binding hashes all of its decoded bytes.
MIN_NONCE_BYTES = 32
MAX_NONCE_BYTES = 128
BIND_BYTES = 64
ALG = "ECDH-ES+A256KW"
ENC = "A256GCM"
_P384_COORDINATE = 48

_PrivateKey = x25519.X25519PrivateKey | ec.EllipticCurvePrivateKey


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding; raises ValueError on anything else."""
    if not isinstance(text, str) or not all(c.isalnum() or c in "-_" for c in text) or not text.isascii():
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as err:
        raise ValueError("not base64url") from err


def jwk_thumbprint(jwk: dict[str, str]) -> bytes:
    """RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace (raw 32 bytes)."""
    if jwk.get("kty") == "EC":
        canonical = {"crv": jwk["crv"], "kty": "EC", "x": jwk["x"], "y": jwk["y"]}
    elif jwk.get("kty") == "OKP":
        canonical = {"crv": jwk["crv"], "kty": "OKP", "x": jwk["x"]}
    elif jwk.get("kty") == "RSA":
        canonical = {"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}
    else:
        raise ValueError("unsupported JWK kty")
    text = json.dumps(canonical, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).digest()


def release_binding(nonce: str, thumbprint: bytes) -> bytes:
    """bind = SHA-512(nonceBytes ‖ thumbprint): REPORT_DATA for CPU TEEs; bind[0:32] is the GPU SPDM nonce."""
    try:
        nonce_bytes = b64url_decode(nonce)
    except ValueError:
        nonce_bytes = b""
    if not MIN_NONCE_BYTES <= len(nonce_bytes) <= MAX_NONCE_BYTES:
        raise ClientError(
            "ERR_CLIENT_RESPONSE_INVALID",
            "the challenge nonce is not 32 to 128 bytes of base64url",
            operation="POST /v1/challenge",
        )
    return hashlib.sha512(nonce_bytes + thumbprint).digest()


def concat_kdf(z: bytes, alg: str, key_bits: int, apu: bytes = b"", apv: bytes = b"") -> bytes:
    """RFC 7518 §4.6.2 Concat KDF (NIST SP 800-56A §5.8.1) with SHA-256, for one ECDH-ES key.

    OtherInfo = AlgorithmID ‖ PartyUInfo ‖ PartyVInfo ‖ SuppPubInfo, each datum length-prefixed
    (u32 big-endian) and SuppPubInfo = keydatalen in bits; rounds of SHA-256(counter ‖ Z ‖ OtherInfo).
    """

    def datum(value: bytes) -> bytes:
        return struct.pack(">I", len(value)) + value

    other_info = datum(alg.encode("ascii")) + datum(apu) + datum(apv) + struct.pack(">I", key_bits)
    out = b""
    counter = 1
    while len(out) * 8 < key_bits:
        out += hashlib.sha256(struct.pack(">I", counter) + z + other_info).digest()
        counter += 1
    return out[: key_bits // 8]


def _jwe_invalid(message: str) -> ClientError:
    return ClientError("ERR_CLIENT_JWE_INVALID", message, operation="open released JWE")


def _parse_header(encoded: str) -> dict[str, object]:
    try:
        header = json.loads(b64url_decode(encoded))
    except (ValueError, UnicodeDecodeError):
        raise _jwe_invalid("the released secret is not a compact JWE") from None
    if not isinstance(header, dict):
        raise _jwe_invalid("the released secret is not a compact JWE")
    return header


class TeeKeyPair:
    """An ephemeral key pair whose private half never leaves this object: it is not exported, not written
    anywhere, and is dropped with the object."""

    def __init__(self, key_type: TeeKeyType = "x25519") -> None:
        if key_type not in TEE_KEY_TYPES:
            raise ClientError("ERR_CLIENT_OPTIONS_INVALID", f"the TEE key type must be one of {', '.join(TEE_KEY_TYPES)}")
        self.type: TeeKeyType = key_type
        self._private: _PrivateKey
        if key_type == "x25519":
            self._private = x25519.X25519PrivateKey.generate()
            raw = self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            self.public_jwk: dict[str, str] = {"kty": "OKP", "crv": "X25519", "x": b64url_encode(raw)}
        else:
            self._private = ec.generate_private_key(ec.SECP384R1())
            numbers = self._private.public_key().public_numbers()
            self.public_jwk = {
                "kty": "EC",
                "crv": "P-384",
                "x": b64url_encode(numbers.x.to_bytes(_P384_COORDINATE, "big")),
                "y": b64url_encode(numbers.y.to_bytes(_P384_COORDINATE, "big")),
            }
        #: RFC 7638 SHA-256 thumbprint of ``public_jwk``, raw 32 bytes.
        self.thumbprint = jwk_thumbprint(self.public_jwk)

    def __repr__(self) -> str:
        return f"TeeKeyPair(type={self.type!r}, thumbprint={b64url_encode(self.thumbprint)!r})"

    def _shared_secret(self, epk: object) -> bytes:
        if not isinstance(epk, dict):
            raise _jwe_invalid("the released JWE has no ephemeral public key")
        try:
            if isinstance(self._private, x25519.X25519PrivateKey):
                if epk.get("kty") != "OKP" or epk.get("crv") != "X25519":
                    raise _jwe_invalid("the released JWE's ephemeral key is not X25519")
                peer = x25519.X25519PublicKey.from_public_bytes(b64url_decode(str(epk.get("x"))))
                z = self._private.exchange(peer)
            else:
                if epk.get("kty") != "EC" or epk.get("crv") != "P-384":
                    raise _jwe_invalid("the released JWE's ephemeral key is not P-384")
                x = int.from_bytes(b64url_decode(str(epk.get("x"))), "big")
                y = int.from_bytes(b64url_decode(str(epk.get("y"))), "big")
                # public_key() checks that the point is on the curve (an invalid-curve point is refused).
                ec_peer = ec.EllipticCurvePublicNumbers(x, y, ec.SECP384R1()).public_key()
                z = self._private.exchange(ec.ECDH(), ec_peer)
        except (ValueError, TypeError):
            raise _jwe_invalid("the released JWE's ephemeral public key is not valid") from None
        if not any(z):
            raise _jwe_invalid("the released JWE's ephemeral public key is not valid")
        return z

    def decrypt(self, jwe: str) -> bytearray:
        """Opens a compact JWE released to this key. The caller zeroes the result when done."""
        parts = jwe.split(".") if isinstance(jwe, str) else []
        if len(parts) != 5:
            raise _jwe_invalid("the released secret is not a compact JWE")
        header = _parse_header(parts[0])
        kid = header.get("kid")
        if kid is not None and kid != b64url_encode(self.thumbprint):
            raise _jwe_invalid("the released secret was encrypted to another TEE key")
        # Why strict: anything but the agreed algorithms (or a critical extension) is not what keyward sends.
        if header.get("alg") != ALG or header.get("enc") != ENC or "crit" in header or "zip" in header:
            raise _jwe_invalid(f"the released JWE does not use {ALG} with {ENC}")
        try:
            encrypted_key, iv, ciphertext, tag = (b64url_decode(p) for p in parts[1:])
            apu = b64url_decode(str(header["apu"])) if "apu" in header else b""
            apv = b64url_decode(str(header["apv"])) if "apv" in header else b""
        except ValueError:
            raise _jwe_invalid("the released secret is not a compact JWE") from None
        if len(iv) != 12 or len(tag) != 16:
            raise _jwe_invalid("the released JWE's IV or tag has the wrong length")
        z = bytearray(self._shared_secret(header.get("epk")))
        kek = bytearray(concat_kdf(bytes(z), ALG, 256, apu, apv))
        cek = bytearray()
        try:
            cek = bytearray(aes_key_unwrap(bytes(kek), encrypted_key))
            if len(cek) != 32:
                raise _jwe_invalid("the released JWE's content key is not 256 bits")
            plaintext = AESGCM(bytes(cek)).decrypt(iv, ciphertext + tag, parts[0].encode("ascii"))
        except (InvalidUnwrap, InvalidKey, InvalidTag, ValueError):
            raise _jwe_invalid("the released secret does not open with this TEE key") from None
        finally:
            _zero(z, kek, cek)
        return bytearray(plaintext)


def _zero(*buffers: bytearray) -> None:
    for buffer in buffers:
        buffer[:] = bytes(len(buffer))
