"""Byte layout and keys of keyward sealed files, version 1 (docs/sealed-format.md §2 header, §3 chunk
records, §4 keys, nonces and associated data). Pure: encodes and parses bytes, derives keys."""

from __future__ import annotations

import hashlib
import hmac
import re
import struct
from dataclasses import dataclass
from typing import Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import SealedFileError

#: 0x00..0x08: "\x89KWSEAL\n" — a non-ASCII first byte and a newline catch text-mode mangling early.
MAGIC = b"\x89KWSEAL\n"
FORMAT_VERSION = 1
SALT_LENGTH = 32
KEY_CHECK_LENGTH = 32
HEADER_TAG_LENGTH = 32
GCM_TAG_LENGTH = 16
NONCE_PREFIX_LENGTH = 7
RECORD_PREFIX_LENGTH = 5
DEFAULT_CHUNK_SIZE = 1024 * 1024
MIN_CHUNK_SIZE = 256
MAX_CHUNK_SIZE = 16 * 1024 * 1024
MAX_CHUNKS = 2**32
MAX_KEY_ID_BYTES = 256
MAX_NAME_BYTES = 4096
MAX_WRAPPED_KEY_BYTES = 16384
DATA_KEY_LENGTH = 32
RECORD_FLAG_FINAL = 0x01

_OFF_VERSION = 0x08
_OFF_HEADER_LENGTH = 0x0A
_OFF_KIND = 0x0E
_OFF_RESERVED = 0x0F
_OFF_CHUNK_SIZE = 0x10
_OFF_KEY_VERSION = 0x14
_OFF_SALT = 0x18
#: Where the key id length sits; everything before it is fixed.
FIXED_HEADER_LENGTH = 0x38
MIN_HEADER_LENGTH = FIXED_HEADER_LENGTH + 2 + 1 + 2 + 2 + 1 + KEY_CHECK_LENGTH + HEADER_TAG_LENGTH
MAX_HEADER_LENGTH = FIXED_HEADER_LENGTH + 2 + MAX_KEY_ID_BYTES + 2 + MAX_NAME_BYTES + 2 + MAX_WRAPPED_KEY_BYTES + KEY_CHECK_LENGTH + HEADER_TAG_LENGTH

SealedKind = Literal["file", "manifest"]
_KIND_BYTES: dict[SealedKind, int] = {"file": 0x00, "manifest": 0x01}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NAME_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f\\]")

# HKDF `info` labels (§4): one per derived value so no two outputs can ever coincide.
_INFO_AES = b"keyward sealed v1 aes-256-gcm key"
_INFO_NONCE = b"keyward sealed v1 nonce prefix"
_INFO_MAC = b"keyward sealed v1 header hmac key"
_INFO_CHECK = b"keyward sealed v1 key check"


@dataclass(frozen=True)
class SealedHeader:
    """A parsed header. Until unsealing verifies the header tag, every field is an unauthenticated hint."""

    kind: SealedKind
    chunk_size: int
    key_id: str
    key_version: int
    name: str
    wrapped_data_key: str
    salt: bytes
    key_check: bytes
    tag: bytes
    #: The exact header bytes (0x00..H), tag included.
    raw: bytes
    version: int = FORMAT_VERSION

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the header: what `keyward seal` prints and a consumer can pin."""
        return hashlib.sha256(self.raw).hexdigest()


@dataclass
class FileKeys:
    """Everything derived from (data key, salt); zeroed with ``zero()`` when done."""

    aes_key: bytearray
    nonce_prefix: bytearray
    mac_key: bytearray
    key_check: bytearray

    def zero(self) -> None:
        for buffer in (self.aes_key, self.nonce_prefix, self.mac_key, self.key_check):
            buffer[:] = bytes(len(buffer))


def _malformed(message: str) -> SealedFileError:
    return SealedFileError("ERR_SEALED_HEADER_MALFORMED", f"sealed file header is malformed: {message}")


def is_safe_relative_name(name: str) -> bool:
    """A relative POSIX path without empty, '.' or '..' segments, leading '/', backslash or control
    characters — a name read from a file can never point outside the directory it is unsealed into."""
    if not name or len(name.encode("utf-8")) > MAX_NAME_BYTES or _NAME_FORBIDDEN.search(name):
        return False
    return all(seg not in ("", ".", "..") for seg in name.split("/"))


def _is_printable_text(text: str, max_bytes: int) -> bool:
    return len(text) > 0 and len(text.encode("utf-8")) <= max_bytes and not _CONTROL.search(text)


def check_data_key(data_key: object) -> None:
    if not isinstance(data_key, bytes | bytearray | memoryview) or len(data_key) != DATA_KEY_LENGTH:
        raise SealedFileError("ERR_SEALED_OPTIONS_INVALID", f"the data key must be {DATA_KEY_LENGTH} bytes")


def check_header_fields(chunk_size: int, key_id: str, key_version: int, name: str, wrapped_data_key: str) -> None:
    """The fields a sealer supplies; ERR_SEALED_OPTIONS_INVALID names the field (never its value)."""

    def bad(what: str) -> SealedFileError:
        return SealedFileError("ERR_SEALED_OPTIONS_INVALID", f"invalid seal options: {what}")

    if not isinstance(chunk_size, int) or not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise bad(f"chunk_size must be an integer in [{MIN_CHUNK_SIZE}, {MAX_CHUNK_SIZE}]")
    if not isinstance(key_id, str) or not _is_printable_text(key_id, MAX_KEY_ID_BYTES):
        raise bad(f"key_id must be 1..{MAX_KEY_ID_BYTES} bytes of printable UTF-8")
    if not isinstance(key_version, int) or not 1 <= key_version <= 0xFFFFFFFF:
        raise bad("key_version must be an integer in [1, 2^32)")
    if not isinstance(name, str) or (name != "" and not is_safe_relative_name(name)):
        raise bad('name must be a relative POSIX path without "." or ".." segments')
    if not isinstance(wrapped_data_key, str) or not _is_printable_text(wrapped_data_key, MAX_WRAPPED_KEY_BYTES):
        raise bad(f"wrapped_data_key must be 1..{MAX_WRAPPED_KEY_BYTES} bytes of printable UTF-8")


def _hkdf(data_key: bytes, salt: bytes, info: bytes, length: int) -> bytearray:
    return bytearray(HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(data_key))


def derive_file_keys(data_key: bytes, salt: bytes) -> FileKeys:
    """Only the salt enters the derivation, never other header fields: a wrong data key (key check
    differs) is told apart from an edited header (tag differs); the header hash in every AAD binds the rest."""
    check_data_key(data_key)
    key = bytes(data_key)
    return FileKeys(
        aes_key=_hkdf(key, salt, _INFO_AES, 32),
        nonce_prefix=_hkdf(key, salt, _INFO_NONCE, NONCE_PREFIX_LENGTH),
        mac_key=_hkdf(key, salt, _INFO_MAC, 32),
        key_check=_hkdf(key, salt, _INFO_CHECK, KEY_CHECK_LENGTH),
    )


def header_tag(mac_key: bytes | bytearray, body: bytes) -> bytes:
    return hmac.new(bytes(mac_key), body, hashlib.sha256).digest()


def encode_header(kind: SealedKind, chunk_size: int, key_id: str, key_version: int, name: str, wrapped: str, salt: bytes, keys: FileKeys) -> bytes:
    """The whole header: fixed part, length-prefixed fields, key check, and the HMAC tag over all before it."""
    fields = [key_id.encode("utf-8"), name.encode("utf-8"), wrapped.encode("utf-8")]
    total = FIXED_HEADER_LENGTH + sum(2 + len(f) for f in fields) + KEY_CHECK_LENGTH + HEADER_TAG_LENGTH
    body = bytearray(MAGIC)
    body += struct.pack(">HIBBII", FORMAT_VERSION, total, _KIND_BYTES[kind], 0, chunk_size, key_version)
    body += salt
    for field in fields:
        body += struct.pack(">H", len(field)) + field
    body += keys.key_check
    return bytes(body) + header_tag(keys.mac_key, bytes(body))


def parse_header_prefix(prefix: bytes) -> int:
    """Magic, then version (a future version is unsupported, not malformed), then the header length.
    ``prefix`` may be shorter than FIXED_HEADER_LENGTH only when the input ended there."""
    have = min(len(prefix), len(MAGIC))
    if prefix[:have] != MAGIC[:have]:
        raise SealedFileError("ERR_SEALED_NOT_SEALED", "input is not a keyward sealed file (bad magic)")
    truncated = SealedFileError("ERR_SEALED_TRUNCATED", "sealed file is truncated inside its header")
    if len(prefix) < _OFF_HEADER_LENGTH:
        raise truncated
    (version,) = struct.unpack_from(">H", prefix, _OFF_VERSION)
    if version != FORMAT_VERSION:
        raise SealedFileError("ERR_SEALED_VERSION_UNSUPPORTED", f"sealed file format version {version} is not supported")
    if len(prefix) < FIXED_HEADER_LENGTH:
        raise truncated
    (length,) = struct.unpack_from(">I", prefix, _OFF_HEADER_LENGTH)
    if not MIN_HEADER_LENGTH <= length <= MAX_HEADER_LENGTH:
        raise _malformed("header length out of range")
    return int(length)


def parse_header(data: bytes) -> SealedHeader:
    """Parses a complete v1 header (exactly ``parse_header_prefix(data)`` bytes). Structure only."""
    length = parse_header_prefix(data)
    if len(data) != length:
        raise _malformed("header length does not match")
    kind_byte, reserved, chunk_size, key_version = struct.unpack_from(">BBII", data, _OFF_KIND)
    kind = next((k for k, b in _KIND_BYTES.items() if b == kind_byte), None)
    if kind is None:
        raise _malformed("unknown kind")
    if reserved != 0:
        raise _malformed("reserved byte is not zero")
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise _malformed("chunk size out of range")
    if key_version < 1:
        raise _malformed("key version is zero")
    at = FIXED_HEADER_LENGTH

    def read_field(what: str, lo: int, hi: int) -> str:
        nonlocal at
        if at + 2 > length:
            raise _malformed(f"{what} length runs past the header")
        (n,) = struct.unpack_from(">H", data, at)
        if not lo <= n <= hi or at + 2 + n > length:
            raise _malformed(f"{what} length out of range")
        raw = data[at + 2 : at + 2 + n]
        at += 2 + n
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed(f"{what} is not UTF-8") from None

    key_id = read_field("key id", 1, MAX_KEY_ID_BYTES)
    name = read_field("name", 0, MAX_NAME_BYTES)
    wrapped = read_field("wrapped data key", 1, MAX_WRAPPED_KEY_BYTES)
    if at + KEY_CHECK_LENGTH + HEADER_TAG_LENGTH != length:
        raise _malformed("field lengths do not add up to the header length")
    if not _is_printable_text(key_id, MAX_KEY_ID_BYTES):
        raise _malformed("key id has control characters")
    if name != "" and not is_safe_relative_name(name):
        raise _malformed("name is not a safe relative path")
    if not _is_printable_text(wrapped, MAX_WRAPPED_KEY_BYTES):
        raise _malformed("wrapped data key has control characters")
    raw = bytes(data)
    return SealedHeader(
        kind=kind,
        chunk_size=chunk_size,
        key_id=key_id,
        key_version=key_version,
        name=name,
        wrapped_data_key=wrapped,
        salt=raw[_OFF_SALT : _OFF_SALT + SALT_LENGTH],
        key_check=raw[at : at + KEY_CHECK_LENGTH],
        tag=raw[at + KEY_CHECK_LENGTH :],
        raw=raw,
    )


def authenticate_header(keys: FileKeys, header: SealedHeader) -> None:
    """Key check first (constant time) — a mismatch means this data key does not belong to this file —
    then the header tag over every byte before it."""
    if not hmac.compare_digest(bytes(keys.key_check), header.key_check):
        raise SealedFileError(
            "ERR_SEALED_KEY_MISMATCH", "the data key does not open this sealed file (wrong data key, or the header salt or key check was altered)"
        )
    if not hmac.compare_digest(header_tag(keys.mac_key, header.raw[: -len(header.tag)]), header.tag):
        raise SealedFileError("ERR_SEALED_HEADER_AUTH_FAILED", "sealed file header failed authentication (the header was altered)")


def record_prefix(final: bool, length: int) -> bytes:
    """0x00 flags (bit 0 = final) ‖ 0x01 u32 plaintext length."""
    return struct.pack(">BI", RECORD_FLAG_FINAL if final else 0, length)


def parse_record_prefix(prefix: bytes, chunk_size: int, index: int) -> tuple[bool, int]:
    """Framing rules: non-final chunks are full; the final one 1..chunk_size, or 0 only as the only chunk."""
    flags, length = struct.unpack(">BI", prefix)

    def bad(what: str) -> SealedFileError:
        return SealedFileError("ERR_SEALED_CHUNK_MALFORMED", f"sealed file chunk {index} is malformed: {what}")

    if flags & ~RECORD_FLAG_FINAL:
        raise bad("unknown flags")
    final = flags == RECORD_FLAG_FINAL
    if not final and length != chunk_size:
        raise bad("a non-final chunk must be full")
    if final and (length > chunk_size or (length == 0 and index != 0)):
        raise bad("final chunk length out of range")
    return final, int(length)


def chunk_nonce(prefix: bytes | bytearray, index: int, final: bool) -> bytes:
    """GCM nonce (12 bytes): per-file prefix (7) ‖ chunk counter u32 BE (4) ‖ final flag (1)."""
    return bytes(prefix) + struct.pack(">IB", index, 1 if final else 0)
