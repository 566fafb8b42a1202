"""The shared sealed-file vectors (test/vectors/sealed/README.md): the Python reader opens the files the
TypeScript implementation sealed (and its own) to the expected plaintext, header fields and hashes."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from conftest import REPO

from keyward.errors import SealedFileError
from keyward.sealed import SealedReader, read_sealed_header, unseal_stream

DIR = REPO / "test" / "vectors" / "sealed"
PARAMS = json.loads((DIR / "params.json").read_text())
MANIFEST = json.loads((DIR / "manifest.json").read_text())
DATA_KEY = bytes.fromhex(PARAMS["dataKeyHex"])


def test_vectors_from_both_sides() -> None:
    assert {v["sealedBy"] for v in MANIFEST["vectors"]} == {"node", "python"}
    assert len([v for v in MANIFEST["vectors"] if v["sealedBy"] == "node"]) == 3


@pytest.mark.parametrize("vector", MANIFEST["vectors"], ids=[v["file"] for v in MANIFEST["vectors"]])
def test_opens_to_the_expected_plaintext(vector: dict[str, str]) -> None:
    path = DIR / vector["file"]
    plaintext = (DIR / vector["plaintext"]).read_bytes()
    header = read_sealed_header(path)
    assert (header.kind, header.key_id, header.key_version, header.wrapped_data_key, header.chunk_size, header.name) == (
        "file",
        PARAMS["keyId"],
        PARAMS["keyVersion"],
        PARAMS["wrappedDataKey"],
        PARAMS["chunkSize"],
        vector["plaintext"],
    )
    assert header.sha256 == vector["headerSha256"]
    with SealedReader(open(path, "rb"), DATA_KEY, expect_key_id=PARAMS["keyId"], expect_key_version=PARAMS["keyVersion"], expect_name=vector["plaintext"]) as reader:
        opened = reader.read()
    assert opened == plaintext
    assert hashlib.sha256(opened).hexdigest() == vector["plaintextSha256"]
    sink = io.BytesIO()
    with open(path, "rb") as src:
        assert unseal_stream(src, sink, DATA_KEY).plaintext_bytes == len(plaintext)
    assert sink.getvalue() == plaintext


@pytest.mark.parametrize("vector", [v for v in MANIFEST["vectors"] if v["sealedBy"] == "node"], ids=lambda v: v["file"])
def test_node_sealed_vectors_are_refused_when_damaged(vector: dict[str, str]) -> None:
    sealed = (DIR / vector["file"]).read_bytes()
    flipped = bytearray(sealed)
    flipped[-1] ^= 1
    cases = {
        "ERR_SEALED_CHUNK_AUTH_FAILED": (bytes(flipped), DATA_KEY),
        "ERR_SEALED_KEY_MISMATCH": (sealed, bytes(32)),
        "ERR_SEALED_EXTENDED": (sealed + b"\0", DATA_KEY),
        "ERR_SEALED_TRUNCATED": (sealed[:-1], DATA_KEY),
    }
    for code, (data, key) in cases.items():
        with pytest.raises(SealedFileError) as err:
            unseal_stream(io.BytesIO(data), io.BytesIO(), key)
        assert err.value.code == code
