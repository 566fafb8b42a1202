"""The TEE key: RFC 7638 thumbprints, the RFC 7518 Concat KDF, the binding, and opening JWEs that the
server's own encryptForTee (src/keys/jwe.ts, run through node) made for X25519 and P-384 keys — and
refusing them when they are for another key, edited, or use other algorithms."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess

import pytest
from conftest import REPO, node_or_skip

from keyward.errors import ClientError
from keyward.jwe import TeeKeyPair, b64url_decode, b64url_encode, concat_kdf, jwk_thumbprint, release_binding


def test_rfc7638_thumbprint_example() -> None:
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert b64url_encode(jwk_thumbprint(jwk)) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_rfc7518_appendix_c_concat_kdf() -> None:
    z = bytes([158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49, 110, 163, 218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196])
    assert b64url_encode(concat_kdf(z, "A128GCM", 128, b"Alice", b"Bob")) == "VqqN6vgjbSBcIijNcacQGg"


def test_concat_kdf_longer_than_one_round() -> None:
    out = concat_kdf(b"z" * 32, "X", 512)
    assert len(out) == 64 and out[:32] == hashlib.sha256(b"\0\0\0\1" + b"z" * 32 + b"\0\0\0\1X" + b"\0" * 8 + (512).to_bytes(4, "big")).digest()


def test_binding_is_sha512_of_nonce_and_thumbprint() -> None:
    nonce = b"n" * 32
    thumb = b"t" * 32
    assert release_binding(b64url_encode(nonce), thumb) == hashlib.sha512(nonce + thumb).digest()
    with pytest.raises(ClientError) as err:
        release_binding(b64url_encode(b"short"), thumb)
    assert err.value.code == "ERR_CLIENT_RESPONSE_INVALID"


@pytest.mark.parametrize("key_type", ["x25519", "p384"])
def test_public_jwk_and_thumbprint(key_type: str) -> None:
    tee = TeeKeyPair(key_type)  # type: ignore[arg-type]
    assert "d" not in tee.public_jwk
    assert tee.thumbprint == jwk_thumbprint(tee.public_jwk)
    assert "private" not in repr(tee).lower()
    if key_type == "p384":
        assert len(b64url_decode(tee.public_jwk["x"])) == 48 and len(b64url_decode(tee.public_jwk["y"])) == 48


def server_jwe(tee: TeeKeyPair, plaintext: bytes) -> str:
    """A JWE made by the server's own code (dist/keys/jwe.js) for this TEE key."""
    node = node_or_skip()
    script = (
        "const { parseTeePublicKey, encryptForTee } = await import(process.argv[1]);"
        "const [jwk, hex] = [JSON.parse(process.argv[2]), process.argv[3]];"
        "process.stdout.write(encryptForTee(Buffer.from(hex, 'hex'), parseTeePublicKey(jwk)));"
    )
    url = (REPO / "dist" / "keys" / "jwe.js").as_uri()
    res = subprocess.run([node, "--input-type=module", "-e", script, url, json.dumps(tee.public_jwk), plaintext.hex()], capture_output=True, timeout=60, check=True)
    return res.stdout.decode()


@pytest.mark.parametrize("key_type", ["x25519", "p384"])
def test_opens_what_the_server_encrypts(key_type: str) -> None:
    tee = TeeKeyPair(key_type)  # type: ignore[arg-type]
    secret = bytes(range(32))
    jwe = server_jwe(tee, secret)
    header = json.loads(b64url_decode(jwe.split(".")[0]))
    assert header["alg"] == "ECDH-ES+A256KW" and header["enc"] == "A256GCM" and header["kid"] == b64url_encode(tee.thumbprint)
    assert tee.decrypt(jwe) == bytearray(secret)


def _edit_header(jwe: str, **changes: object) -> str:
    parts = jwe.split(".")
    header = json.loads(b64url_decode(parts[0]))
    header.update(changes)
    parts[0] = b64url_encode(json.dumps(header).encode())
    return ".".join(parts)


def test_refuses_jwes_it_cannot_trust() -> None:
    tee = TeeKeyPair("x25519")
    jwe = server_jwe(tee, b"k" * 32)
    other = TeeKeyPair("x25519")
    with pytest.raises(ClientError) as err:
        other.decrypt(jwe)
    assert err.value.code == "ERR_CLIENT_JWE_INVALID" and "another TEE key" in err.value.message
    parts = jwe.split(".")
    flipped_tag = bytearray(b64url_decode(parts[4]))
    flipped_tag[0] ^= 1
    no_kid = json.loads(b64url_decode(parts[0]))
    no_kid.pop("kid")
    bad = {
        "an edited tag": (tee, ".".join([*parts[:4], b64url_encode(bytes(flipped_tag))])),
        "another alg": (tee, _edit_header(jwe, alg="ECDH-ES")),
        "another enc": (tee, _edit_header(jwe, enc="A128GCM")),
        "compression": (tee, _edit_header(jwe, zip="DEF")),
        "an all-zero ephemeral key": (tee, _edit_header(jwe, epk={"kty": "OKP", "crv": "X25519", "x": b64url_encode(bytes(32))})),
        "not a JWE": (tee, "not.a.jwe"),
        "six parts": (tee, jwe + ".x"),
        # Without a kid the wrong key still cannot open it: same code, nothing else told.
        "another key, no kid": (other, ".".join([b64url_encode(json.dumps(no_kid).encode()), *parts[1:]])),
    }
    for name, (key, candidate) in bad.items():
        with pytest.raises(ClientError) as err:
            key.decrypt(candidate)
        assert err.value.code == "ERR_CLIENT_JWE_INVALID", name


def test_p384_refuses_a_point_off_the_curve() -> None:
    tee = TeeKeyPair("p384")
    jwe = server_jwe(tee, b"k" * 32)
    header = json.loads(b64url_decode(jwe.split(".")[0]))
    y = bytearray(b64url_decode(header["epk"]["y"]))
    y[-1] ^= 1
    with pytest.raises(ClientError) as err:
        tee.decrypt(_edit_header(jwe, epk={**header["epk"], "y": b64url_encode(bytes(y))}))
    assert err.value.code == "ERR_CLIENT_JWE_INVALID"


def test_b64url_is_strict() -> None:
    assert b64url_decode("AQAB") == b"\x01\x00\x01"
    for bad in ("AQ==", "A+B/", "a b", "é"):
        with pytest.raises(ValueError):
            b64url_decode(bad)
    assert base64.urlsafe_b64encode(b"\xff").rstrip(b"=") == b64url_encode(b"\xff").encode()
