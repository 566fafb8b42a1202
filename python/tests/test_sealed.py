"""The Python sealed-file reader and writer (docs/sealed-format.md): round trips at every size around the
chunk boundaries, the framing of §3, every refusal of §5 with its code, and the reader's promise — no
plaintext of a chunk before it verified, none of the final chunk before the input is known to end."""

from __future__ import annotations

import io
import os
import stat
import struct
from pathlib import Path

import pytest

from keyward.errors import SealedFileError
from keyward.sealed import SealedReader, SealedWriter, read_sealed_header, seal_file, seal_stream, unseal_file, unseal_stream

KEY = bytes(range(32))
FIELDS = {"key_id": "model-llama", "key_version": 3, "wrapped_data_key": "kw1.wrapped.AAAA-bbbb_CCCC"}
C = 256


def seal(plain: bytes, chunk_size: int = C, name: str = "", key: bytes = KEY) -> bytes:
    out = io.BytesIO()
    seal_stream(io.BytesIO(plain), out, key, chunk_size=chunk_size, name=name, **FIELDS)  # type: ignore[arg-type]
    return out.getvalue()


def unseal(sealed: bytes, key: bytes = KEY, **expect: object) -> bytes:
    out = io.BytesIO()
    unseal_stream(io.BytesIO(sealed), out, key, **expect)  # type: ignore[arg-type]
    return out.getvalue()


def code_of(sealed: bytes, key: bytes = KEY, **expect: object) -> str:
    with pytest.raises(SealedFileError) as err:
        unseal(sealed, key, **expect)
    return err.value.code


def records(sealed: bytes) -> list[tuple[int, int]]:
    """(offset, total length) of each chunk record."""
    at = struct.unpack_from(">I", sealed, 0x0A)[0]
    out = []
    while at < len(sealed):
        length = 5 + struct.unpack_from(">I", sealed, at + 1)[0] + 16
        out.append((at, length))
        at += length
    return out


@pytest.mark.parametrize("size", [0, 1, C - 1, C, C + 1, 2 * C, 3 * C + 7])
def test_round_trip_and_sealed_size(size: int) -> None:
    plain = os.urandom(size)
    sealed = seal(plain)
    header_length = struct.unpack_from(">I", sealed, 0x0A)[0]
    assert len(sealed) == header_length + size + 21 * max(1, -(-size // C))
    assert unseal(sealed) == plain
    flags = [sealed[offset] for offset, _ in records(sealed)]
    assert flags == [0] * (len(flags) - 1) + [1]


def test_writer_accepts_any_piece_sizes_and_matches_one_big_write() -> None:
    plain = os.urandom(5 * C + 3)
    out = io.BytesIO()
    with SealedWriter(out, KEY, chunk_size=C, **FIELDS) as writer:  # type: ignore[arg-type]
        for i in range(0, len(plain), 77):
            writer.write(plain[i : i + 77])
    assert unseal(out.getvalue()) == plain
    assert writer.plaintext_bytes == len(plain) and writer.sealed_bytes == len(out.getvalue())


def test_writer_abort_leaves_an_output_no_reader_accepts() -> None:
    out = io.BytesIO()
    with pytest.raises(RuntimeError), SealedWriter(out, KEY, chunk_size=C, **FIELDS) as writer:  # type: ignore[arg-type]
        writer.write(os.urandom(3 * C))
        raise RuntimeError("boom")
    assert code_of(out.getvalue()) == "ERR_SEALED_TRUNCATED"


def test_header_fields_and_expectations() -> None:
    sealed = seal(b"x" * 10, name="shards/model-00001.safetensors")
    assert unseal(sealed, expect_key_id="model-llama", expect_key_version=3, expect_name="shards/model-00001.safetensors") == b"x" * 10
    assert code_of(sealed, expect_key_id="other") == "ERR_SEALED_KEY_ID_MISMATCH"
    assert code_of(sealed, expect_key_version=4) == "ERR_SEALED_KEY_ID_MISMATCH"
    assert code_of(sealed, expect_name="other") == "ERR_SEALED_NAME_MISMATCH"


def flip(sealed: bytes, offset: int) -> bytes:
    b = bytearray(sealed)
    b[offset] ^= 1
    return bytes(b)


def test_refusals_in_the_order_of_section_5() -> None:
    sealed = seal(os.urandom(3 * C + 10))
    recs = records(sealed)
    swapped = bytearray(sealed)
    (a, la), (b, lb) = recs[0], recs[1]
    swapped[a : a + la], swapped[b : b + lb] = sealed[b : b + lb], sealed[a : a + la]
    assert code_of(b"PK\x03\x04" + sealed[4:]) == "ERR_SEALED_NOT_SEALED"
    assert code_of(sealed[:5]) == "ERR_SEALED_TRUNCATED"
    assert code_of(sealed[:8] + b"\x00\x02" + sealed[10:]) == "ERR_SEALED_VERSION_UNSUPPORTED"
    assert code_of(sealed[:0x0E] + b"\x07" + sealed[0x0F:]) == "ERR_SEALED_HEADER_MALFORMED"
    assert code_of(sealed[:0x0A] + struct.pack(">I", 10) + sealed[0x0E:]) == "ERR_SEALED_HEADER_MALFORMED"
    assert code_of(sealed[:100]) == "ERR_SEALED_TRUNCATED"
    assert code_of(sealed, key=bytes(32)) == "ERR_SEALED_KEY_MISMATCH"
    assert code_of(flip(sealed, 0x18)) == "ERR_SEALED_KEY_MISMATCH"
    assert code_of(flip(sealed, 0x3A)) == "ERR_SEALED_HEADER_AUTH_FAILED"
    assert code_of(flip(sealed, recs[1][0] + 20)) == "ERR_SEALED_CHUNK_AUTH_FAILED"
    assert code_of(bytes(swapped)) == "ERR_SEALED_CHUNK_AUTH_FAILED"
    # Relabelled final (flags 0x01): framing allows it, GCM does not (the flag is in the nonce and AAD).
    assert code_of(flip(sealed, recs[0][0])) == "ERR_SEALED_CHUNK_AUTH_FAILED"
    unknown_flag = bytearray(sealed)
    unknown_flag[recs[0][0]] = 0x02
    assert code_of(bytes(unknown_flag)) == "ERR_SEALED_CHUNK_MALFORMED"
    short_non_final = bytearray(sealed)
    short_non_final[recs[0][0] + 1 : recs[0][0] + 5] = struct.pack(">I", C - 1)
    assert code_of(bytes(short_non_final)) == "ERR_SEALED_CHUNK_MALFORMED"
    assert code_of(sealed[: recs[-1][0]]) == "ERR_SEALED_TRUNCATED"
    assert code_of(sealed[:-1]) == "ERR_SEALED_TRUNCATED"
    assert code_of(sealed + b"\0") == "ERR_SEALED_EXTENDED"
    with pytest.raises(SealedFileError) as err:
        unseal(sealed, key=b"short")
    assert err.value.code == "ERR_SEALED_OPTIONS_INVALID"


def test_a_chunk_from_another_file_under_the_same_key_is_refused() -> None:
    one, two = seal(os.urandom(3 * C)), seal(os.urandom(3 * C))
    (a, length), (b, _) = records(one)[1], records(two)[1]
    spliced = one[:a] + two[b : b + length] + one[a + length :]
    assert code_of(spliced) == "ERR_SEALED_CHUNK_AUTH_FAILED"


def test_reader_never_returns_plaintext_of_a_bad_chunk_and_stays_failed() -> None:
    plain = os.urandom(3 * C)
    sealed = seal(plain)
    bad = flip(sealed, records(sealed)[1][0] + 30)
    reader = SealedReader(io.BytesIO(bad), KEY)
    assert reader.read(C) == plain[:C]
    with pytest.raises(SealedFileError) as err:
        reader.read(1)
    assert err.value.code == "ERR_SEALED_CHUNK_AUTH_FAILED"
    with pytest.raises(SealedFileError):
        reader.read()
    reader.close()


def test_reader_holds_back_the_final_chunk_until_the_input_ends() -> None:
    plain = os.urandom(C + 10)
    extended = seal(plain) + b"junk"
    reader = SealedReader(io.BytesIO(extended), KEY)
    assert reader.read(C) == plain[:C]
    with pytest.raises(SealedFileError) as err:
        reader.read(1)
    assert err.value.code == "ERR_SEALED_EXTENDED"


def test_reader_is_a_readable_binary_file() -> None:
    plain = os.urandom(4 * C + 99)
    with SealedReader(io.BytesIO(seal(plain)), KEY) as reader:
        assert reader.readable() and not reader.writable() and not reader.seekable()
        assert reader.read(0) == b""
        assert reader.read1(10) == plain[:10]
        buf = bytearray(C * 2)
        assert reader.readinto(buf) == 2 * C and bytes(buf) == plain[10 : 10 + 2 * C]
        rest = reader.read()
        assert rest == plain[10 + 2 * C :]
        assert reader.read() == b"" and reader.plaintext_bytes == len(plain)
    assert reader.closed


def test_files_are_atomic_with_modes_and_no_leftovers(tmp_path: Path) -> None:
    plain = os.urandom(3 * C + 1)
    (tmp_path / "model.bin").write_bytes(plain)
    result = seal_file(tmp_path / "model.bin", tmp_path / "model.sealed", KEY, chunk_size=C, **FIELDS)  # type: ignore[arg-type]
    assert read_sealed_header(tmp_path / "model.sealed").name == "model.bin" == result.header.name
    assert stat.S_IMODE((tmp_path / "model.sealed").stat().st_mode) == 0o644 & ~_umask()
    unseal_file(tmp_path / "model.sealed", tmp_path / "out.bin", KEY, expect_name="model.bin")
    assert (tmp_path / "out.bin").read_bytes() == plain
    assert stat.S_IMODE((tmp_path / "out.bin").stat().st_mode) == 0o600
    (tmp_path / "bad.sealed").write_bytes(flip((tmp_path / "model.sealed").read_bytes(), -30))
    with pytest.raises(SealedFileError) as err:
        unseal_file(tmp_path / "bad.sealed", tmp_path / "bad.out", KEY)
    assert err.value.code == "ERR_SEALED_CHUNK_AUTH_FAILED"
    (tmp_path / "kept.out").write_bytes(b"old")
    with pytest.raises(SealedFileError) as err:
        unseal_file(tmp_path / "model.sealed", tmp_path / "kept.out", KEY, overwrite=False)
    assert err.value.code == "ERR_SEALED_OUTPUT_UNWRITABLE"
    assert (tmp_path / "kept.out").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.sealed", "kept.out", "model.bin", "model.sealed", "out.bin"]


def test_input_and_options_errors(tmp_path: Path) -> None:
    with pytest.raises(SealedFileError) as err:
        read_sealed_header(tmp_path)
    assert err.value.code == "ERR_SEALED_INPUT_UNREADABLE"
    with pytest.raises(SealedFileError) as err:
        read_sealed_header(tmp_path / "missing")
    assert err.value.code == "ERR_SEALED_INPUT_UNREADABLE"
    bad_options = [
        {"chunk_size": 255},
        {"chunk_size": 16 * 1024 * 1024 + 1},
        {"key_id": ""},
        {"key_id": "a\nb"},
        {"key_version": 0},
        {"name": "../escape"},
        {"name": "/abs"},
        {"name": "a\\b"},
        {"wrapped_data_key": ""},
    ]
    for change in bad_options:
        options = {**FIELDS, "chunk_size": C, **change}
        with pytest.raises(SealedFileError) as err:
            SealedWriter(io.BytesIO(), KEY, **options)  # type: ignore[arg-type]
        assert err.value.code == "ERR_SEALED_OPTIONS_INVALID", change
    with pytest.raises(SealedFileError) as err:
        SealedWriter(io.BytesIO(), b"k" * 31, **FIELDS)  # type: ignore[arg-type]
    assert err.value.code == "ERR_SEALED_OPTIONS_INVALID"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_cut_inside_the_next_record_prefix_is_reported_after_the_verified_chunk() -> None:
    plain = os.urandom(3 * C)
    sealed = seal(plain)
    reader = SealedReader(io.BytesIO(sealed[: records(sealed)[1][0] + 2]), KEY)
    assert reader.read(C) == plain[:C]
    with pytest.raises(SealedFileError) as err:
        reader.read(1)
    assert err.value.code == "ERR_SEALED_TRUNCATED" and "chunk 1" in err.value.message


def test_verified_chunks_hand_out_views_without_copies() -> None:
    plain = os.urandom(2 * C + 5)
    with SealedReader(io.BytesIO(seal(plain)), KEY) as reader:
        assert b"".join(bytes(view) for view in reader.verified_chunks()) == plain
