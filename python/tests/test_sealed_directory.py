"""Sealed directories of shards in Python (docs/sealed-format.md §6.2): round trip, and every way the
directory can disagree with its manifest refused with its code and no output directory left behind."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from keyward.errors import SealedFileError
from keyward.sealed_directory import MANIFEST_FILE, read_sealed_path_header, seal_directory, unseal_directory

KEY = bytes(range(32))
FIELDS = {"key_id": "model-llama", "key_version": 2, "wrapped_data_key": "kw1.wrapped"}
FILES = {"model-00001-of-00002.safetensors": os.urandom(9000), "model-00002-of-00002.safetensors": os.urandom(5000), "sub/config.json": b'{"layers":80}', "empty": b""}


@pytest.fixture()
def sealed(tmp_path: Path) -> Path:
    for name, data in FILES.items():
        (tmp_path / "in" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "in" / name).write_bytes(data)
    result = seal_directory(tmp_path / "in", tmp_path / "sealed", KEY, chunk_size=4096, **FIELDS)  # type: ignore[arg-type]
    assert [e.name for e in result.files] == sorted(FILES) and result.plaintext_bytes == sum(map(len, FILES.values()))
    return tmp_path / "sealed"


def test_round_trip(sealed: Path, tmp_path: Path) -> None:
    header = read_sealed_path_header(sealed)
    assert header.kind == "manifest" and header.key_id == "model-llama"
    result = unseal_directory(sealed, tmp_path / "out", KEY, expect_key_id="model-llama", expect_key_version=2)
    for name, data in FILES.items():
        assert (tmp_path / "out" / name).read_bytes() == data
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o700
    assert result.manifest.sha256 == header.sha256


def unseal_code(sealed: Path, out: Path, key: bytes = KEY, **expect: object) -> str:
    with pytest.raises(SealedFileError) as err:
        unseal_directory(sealed, out, key, **expect)  # type: ignore[arg-type]
    assert not out.exists()
    assert [p.name for p in out.parent.iterdir() if "keyward-tmp" in p.name] == []
    return err.value.code


def test_refusals(sealed: Path, tmp_path: Path) -> None:
    def variant(name: str) -> Path:
        copy = tmp_path / name
        shutil.copytree(sealed, copy)
        return copy

    missing = variant("missing")
    (missing / "empty.sealed").unlink()
    assert unseal_code(missing, tmp_path / "o1") == "ERR_SEALED_DIRECTORY_MISMATCH"
    extra = variant("extra")
    shutil.copy(extra / "empty.sealed", extra / "more.sealed")
    assert unseal_code(extra, tmp_path / "o2") == "ERR_SEALED_DIRECTORY_MISMATCH"
    swapped = variant("swapped")
    one, two = swapped / "model-00001-of-00002.safetensors.sealed", swapped / "model-00002-of-00002.safetensors.sealed"
    one.rename(swapped / "tmp")
    two.rename(one)
    (swapped / "tmp").rename(two)
    assert unseal_code(swapped, tmp_path / "o3") == "ERR_SEALED_NAME_MISMATCH"
    corrupt = variant("corrupt")
    data = bytearray((corrupt / "sub" / "config.json.sealed").read_bytes())
    data[-3] ^= 1
    (corrupt / "sub" / "config.json.sealed").write_bytes(bytes(data))
    assert unseal_code(corrupt, tmp_path / "o4") == "ERR_SEALED_CHUNK_AUTH_FAILED"
    assert unseal_code(sealed, tmp_path / "o5", key=bytes(32)) == "ERR_SEALED_KEY_MISMATCH"
    assert unseal_code(sealed, tmp_path / "o6", expect_key_id="other") == "ERR_SEALED_KEY_ID_MISMATCH"
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_bytes(b"")
    with pytest.raises(SealedFileError) as err:
        unseal_directory(sealed, tmp_path / "busy", KEY)
    assert err.value.code == "ERR_SEALED_OUTPUT_UNWRITABLE"
    no_manifest = variant("no-manifest")
    (no_manifest / MANIFEST_FILE).unlink()
    assert unseal_code(no_manifest, tmp_path / "o7") == "ERR_SEALED_INPUT_UNREADABLE"
