"""Sealed files (docs/sealed-format.md): a streaming reader that hands out a chunk's plaintext only after
its GCM tag verified (and the final chunk's only once the input is known to end there), a streaming
writer, atomic file helpers (no partial plaintext under any name), and ``open_sealed``, which releases
the file's data key from keyward by attestation and returns a readable binary file object."""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ._sealed_format import (
    DEFAULT_CHUNK_SIZE,
    FIXED_HEADER_LENGTH,
    GCM_TAG_LENGTH,
    MAX_CHUNKS,
    RECORD_PREFIX_LENGTH,
    SALT_LENGTH,
    FileKeys,
    SealedHeader,
    SealedKind,
    authenticate_header,
    check_data_key,
    check_header_fields,
    chunk_nonce,
    derive_file_keys,
    encode_header,
    is_safe_relative_name,
    parse_header,
    parse_header_prefix,
    parse_record_prefix,
    record_prefix,
)
from .errors import KeywardError, SealedFileError

if TYPE_CHECKING:
    from .client import Client
    from .evidence import EvidenceProvider
    from .jwe import TeeKeyType

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "SealedHeader",
    "SealedReader",
    "SealedWriter",
    "open_sealed",
    "read_sealed_header",
    "seal_file",
    "seal_stream",
    "unseal_file",
    "unseal_stream",
]

#: Unsealed plaintext is private to its owner; sealed output is ciphertext and may be shared.
PLAINTEXT_FILE_MODE = 0o600
SEALED_FILE_MODE = 0o644
_IO_BUFFER = 1024 * 1024
_T = TypeVar("_T")
#: Bytes-like values accepted for keys and data (collections.abc.Buffer needs Python 3.12).
Buffer = bytes | bytearray | memoryview


def _read_exact(src: BinaryIO, view: memoryview) -> int:
    """Fills ``view`` from ``src``; returns fewer bytes only when the input ended first."""
    got = 0
    while got < len(view):
        n = src.readinto(view[got:])  # type: ignore[attr-defined]
        if not n:
            break
        got += n
    return got


def _io_failed(what: str, err: OSError) -> SealedFileError:
    return SealedFileError("ERR_SEALED_IO_FAILED", f"{what} failed: an input or output stream failed ({err.strerror or type(err).__name__})")


def _read_bytes(src: BinaryIO, n: int) -> bytes:
    """``n`` bytes, fewer only at the end of the input (an unbuffered file may return short reads)."""
    buffer = bytearray(n)
    return bytes(buffer[: _read_exact(src, memoryview(buffer))])


def _read_header(src: BinaryIO) -> SealedHeader:
    try:
        prefix = _read_bytes(src, FIXED_HEADER_LENGTH)
        length = parse_header_prefix(prefix)
        rest = _read_bytes(src, length - FIXED_HEADER_LENGTH)
    except OSError as err:
        raise _io_failed("reading the sealed header", err) from None
    if len(rest) < length - FIXED_HEADER_LENGTH:
        raise SealedFileError("ERR_SEALED_TRUNCATED", "sealed file is truncated inside its header")
    return parse_header(prefix + rest)


def _check_expectations(header: SealedHeader, key_id: str | None, key_version: int | None, name: str | None) -> None:
    if key_id is not None and key_id != header.key_id:
        raise SealedFileError("ERR_SEALED_KEY_ID_MISMATCH", "sealed file was sealed under another key id than expected")
    if key_version is not None and key_version != header.key_version:
        raise SealedFileError("ERR_SEALED_KEY_ID_MISMATCH", "sealed file was sealed under another key version than expected")
    if name is not None and name != header.name:
        raise SealedFileError("ERR_SEALED_NAME_MISMATCH", "sealed file carries another name than expected (renamed or swapped)")


class SealedReader(io.BufferedIOBase):
    """The plaintext of a sealed stream as a readable binary file object.

    The header is authenticated when the reader is made (key check, header tag, expectations); each chunk
    is decrypted and verified as a whole before any of its bytes is returned; the final chunk is returned
    only once the input is known to end right after it. A failure raises a ``SealedFileError`` and every
    later read raises it again. Reading everything without an error means the whole file verified.
    """

    def __init__(
        self,
        src: BinaryIO,
        data_key: Buffer,
        *,
        header: SealedHeader | None = None,
        expect_key_id: str | None = None,
        expect_key_version: int | None = None,
        expect_name: str | None = None,
        close_source: bool = True,
    ) -> None:
        super().__init__()
        self._src = src
        self._close_source = close_source
        self._keys: FileKeys | None = None
        try:
            self.header = header if header is not None else _read_header(src)
            check_data_key(data_key)
            self._keys = derive_file_keys(bytes(data_key), self.header.salt)
            authenticate_header(self._keys, self.header)
            _check_expectations(self.header, expect_key_id, expect_key_version, expect_name)
        except BaseException:
            self._wipe()
            if close_source:
                src.close()
            raise
        self._aead = AESGCM(bytes(self._keys.aes_key))
        self._nonce_prefix = self._keys.nonce_prefix
        self._header_hash = hashlib.sha256(self.header.raw).digest()
        size = self.header.chunk_size
        # One read per record: its ciphertext and tag, then the next record's prefix (or, after the final
        # record, one byte that must not exist).
        self._record = bytearray(size + GCM_TAG_LENGTH + RECORD_PREFIX_LENGTH)
        self._next_prefix: bytes | None = None
        self._plain = bytearray(size)
        self._pos = 0
        self._end = 0
        self._index = 0
        self._done = False
        self._error: KeywardError | None = None
        #: Plaintext bytes verified and handed out so far (or buffered for the next read).
        self.plaintext_bytes = 0

    def readable(self) -> bool:
        return True

    def _fail(self, error: KeywardError) -> KeywardError:
        self._error = error
        self._plain[:] = bytes(len(self._plain))
        self._pos = self._end = 0
        return error

    def _next_chunk(self) -> None:
        """Decrypts the next record into the plaintext buffer, or raises; sets ``_done`` after the final one."""
        index = self._index
        if index >= MAX_CHUNKS:
            raise self._fail(SealedFileError("ERR_SEALED_TOO_LARGE", "sealed file has more chunks than the format allows"))
        truncated = SealedFileError("ERR_SEALED_TRUNCATED", f"sealed file is truncated (it ends in or before chunk {index}; no final chunk)")
        try:
            prefix = self._next_prefix if index > 0 else _read_bytes(self._src, RECORD_PREFIX_LENGTH)
            if prefix is None or len(prefix) < RECORD_PREFIX_LENGTH:
                raise self._fail(truncated)
            final, length = parse_record_prefix(prefix, self.header.chunk_size, index)
            sealed_length = length + GCM_TAG_LENGTH
            want = sealed_length + (1 if final else RECORD_PREFIX_LENGTH)
            got = _read_exact(self._src, memoryview(self._record)[:want])
            if got < sealed_length:
                raise self._fail(truncated)
            out = memoryview(self._plain)[:length]
            nonce = chunk_nonce(self._nonce_prefix, index, final)
            try:
                self._aead.decrypt_into(nonce, memoryview(self._record)[:sealed_length], self._header_hash + prefix, out)
            except InvalidTag:
                raise self._fail(SealedFileError("ERR_SEALED_CHUNK_AUTH_FAILED", f"sealed file chunk {index} failed authentication")) from None
            if final and got > sealed_length:
                raise self._fail(SealedFileError("ERR_SEALED_EXTENDED", "sealed file has data after its final chunk"))
            # A short next prefix is reported when the next chunk is asked for (this one verified).
            self._next_prefix = None if final else bytes(self._record[sealed_length:got])
        except SealedFileError as err:
            raise self._fail(err) from None
        except OSError as err:
            raise self._fail(_io_failed("unsealing", err)) from None
        self._pos, self._end = 0, length
        self._index += 1
        self.plaintext_bytes += length
        self._done = final

    def _fill(self) -> bool:
        """True when plaintext is buffered; False at the verified end of the file."""
        if self._error is not None:
            raise self._error
        if self.closed:
            raise ValueError("I/O operation on closed file.")
        while self._pos == self._end:
            if self._done:
                return False
            self._next_chunk()
        return True

    def verified_chunks(self) -> Iterator[memoryview]:
        """The rest of the plaintext as views of each verified chunk, without a copy. A view is valid
        only until the next one is requested (the buffer is reused)."""
        while self._fill():
            view = memoryview(self._plain)[self._pos : self._end]
            self._pos = self._end
            yield view

    def readinto(self, buffer: Buffer) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view) and self._fill():
            n = min(len(view) - filled, self._end - self._pos)
            view[filled : filled + n] = memoryview(self._plain)[self._pos : self._pos + n]
            self._pos += n
            filled += n
        return filled

    def readinto1(self, buffer: Buffer) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        if len(view) == 0 or not self._fill():
            return 0
        n = min(len(view), self._end - self._pos)
        view[:n] = memoryview(self._plain)[self._pos : self._pos + n]
        self._pos += n
        return n

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            parts = []
            while self._fill():
                parts.append(bytes(self._plain[self._pos : self._end]))
                self._pos = self._end
            return b"".join(parts)
        out = bytearray(size)
        return bytes(out[: self.readinto(out)])

    def read1(self, size: int = -1) -> bytes:
        if size < 0:
            size = self.header.chunk_size
        out = bytearray(size)
        return bytes(out[: self.readinto1(out)])

    def _wipe(self) -> None:
        if self._keys is not None:
            self._keys.zero()
        for name in ("_plain", "_record"):
            buffer = getattr(self, name, None)
            if isinstance(buffer, bytearray):
                buffer[:] = bytes(len(buffer))

    def close(self) -> None:
        if not self.closed:
            self._wipe()
            if self._close_source:
                self._src.close()
        super().close()


class SealedWriter(io.BufferedIOBase):
    """Seals what is written to it into ``dst`` (header first, then chunk records). ``close()`` writes the
    final record; ``abort()`` (also on an exception inside a ``with`` block) stops without it, leaving an
    output that no reader accepts."""

    def __init__(
        self,
        dst: BinaryIO,
        data_key: Buffer,
        *,
        key_id: str,
        key_version: int,
        wrapped_data_key: str,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        name: str = "",
        kind: SealedKind = "file",
        close_target: bool = False,
    ) -> None:
        super().__init__()
        check_data_key(data_key)
        check_header_fields(chunk_size, key_id, key_version, name, wrapped_data_key)
        self._dst = dst
        self._close_target = close_target
        salt = secrets.token_bytes(SALT_LENGTH)
        self._keys = derive_file_keys(bytes(data_key), salt)
        raw = encode_header(kind, chunk_size, key_id, key_version, name, wrapped_data_key, salt, self._keys)
        self.header = parse_header(raw)
        self._aead = AESGCM(bytes(self._keys.aes_key))
        self._header_hash = hashlib.sha256(raw).digest()
        self._pending = bytearray(chunk_size)
        self._fill = 0
        self._index = 0
        self._aborted = False
        self.plaintext_bytes = 0
        self.sealed_bytes = len(raw)
        self._write_out(raw)

    def writable(self) -> bool:
        return True

    def _write_out(self, data: Buffer) -> None:
        try:
            self._dst.write(data)
        except OSError as err:
            raise _io_failed("sealing", err) from None

    def _emit(self, final: bool) -> None:
        if self._index >= MAX_CHUNKS:
            raise SealedFileError("ERR_SEALED_TOO_LARGE", f"input is too large for this chunk size (over {MAX_CHUNKS} chunks)")
        prefix = record_prefix(final, self._fill)
        sealed = self._aead.encrypt(chunk_nonce(self._keys.nonce_prefix, self._index, final), memoryview(self._pending)[: self._fill], self._header_hash + prefix)
        self._write_out(prefix)
        self._write_out(sealed)
        self.sealed_bytes += len(prefix) + len(sealed)
        self._index += 1
        self._fill = 0

    def write(self, data: Buffer) -> int:  # type: ignore[override]
        if self.closed or self._aborted:
            raise ValueError("write to a closed sealed writer")
        view = memoryview(data).cast("B")
        size = len(self._pending)
        at = 0
        while at < len(view):
            # A full chunk is emitted as non-final only once more input arrives.
            if self._fill == size:
                self._emit(final=False)
            n = min(size - self._fill, len(view) - at)
            self._pending[self._fill : self._fill + n] = view[at : at + n]
            self._fill += n
            at += n
        self.plaintext_bytes += len(view)
        return len(view)

    def abort(self) -> None:
        """Stops without the final record (the output is then refused as truncated) and wipes keys."""
        self._aborted = True
        self.close()

    def close(self) -> None:
        if self.closed:
            return
        try:
            if not self._aborted:
                self._emit(final=True)
        finally:
            self._keys.zero()
            self._pending[:] = bytes(len(self._pending))
            if self._close_target:
                self._dst.close()
            super().close()

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self.abort()
        else:
            self.close()


@dataclass(frozen=True)
class SealResult:
    header: SealedHeader
    plaintext_bytes: int
    sealed_bytes: int


@dataclass(frozen=True)
class UnsealResult:
    header: SealedHeader
    plaintext_bytes: int


def seal_stream(
    src: BinaryIO,
    dst: BinaryIO,
    data_key: Buffer,
    *,
    key_id: str,
    key_version: int,
    wrapped_data_key: str,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    name: str = "",
) -> SealResult:
    """Seals everything ``src`` yields into ``dst``. The caller owns and zeroes ``data_key``."""
    writer = SealedWriter(dst, data_key, key_id=key_id, key_version=key_version, wrapped_data_key=wrapped_data_key, chunk_size=chunk_size, name=name)
    with writer:
        buffer = bytearray(max(chunk_size, _IO_BUFFER))
        view = memoryview(buffer)
        while True:
            try:
                n = src.readinto(view)  # type: ignore[attr-defined]
            except OSError as err:
                raise _io_failed("sealing", err) from None
            if not n:
                break
            writer.write(view[:n])
        buffer[:] = bytes(len(buffer))
    return SealResult(writer.header, writer.plaintext_bytes, writer.sealed_bytes)


def unseal_stream(
    src: BinaryIO,
    dst: BinaryIO,
    data_key: Buffer,
    *,
    expect_key_id: str | None = None,
    expect_key_version: int | None = None,
    expect_name: str | None = None,
) -> UnsealResult:
    """Unseals ``src`` into ``dst``, writing each chunk only once it authenticated."""
    reader = SealedReader(
        src, data_key, expect_key_id=expect_key_id, expect_key_version=expect_key_version, expect_name=expect_name, close_source=False
    )
    with reader:
        for chunk in reader.verified_chunks():
            try:
                dst.write(chunk)
            except OSError as err:
                raise _io_failed("unsealing", err) from None
        return UnsealResult(reader.header, reader.plaintext_bytes)


def open_input_file(path: str | os.PathLike[str]) -> BinaryIO:
    """A regular file opened for reading; anything else is ERR_SEALED_INPUT_UNREADABLE."""
    try:
        # Unbuffered: the readers ask for whole records (or 1 MiB pieces), so a buffer would only add a copy.
        f = open(path, "rb", buffering=0)  # noqa: SIM115 - the caller closes it
    except OSError as err:
        raise SealedFileError("ERR_SEALED_INPUT_UNREADABLE", f"cannot read input {os.fspath(path)} ({err.strerror or 'error'})") from None
    if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
        f.close()
        raise SealedFileError("ERR_SEALED_INPUT_UNREADABLE", f"input is not a regular file: {os.fspath(path)}")
    return f


def temp_sibling_path(out_path: str) -> str:
    """A hidden, unguessable sibling of ``out_path``: same directory, so the final rename is atomic."""
    head, tail = os.path.split(os.path.abspath(out_path))
    return os.path.join(head, f".{tail}.{secrets.token_hex(8)}.keyward-tmp")


def write_file_atomically(out_path: str | os.PathLike[str], mode: int, write: Callable[[BinaryIO], _T], *, overwrite: bool = True) -> _T:
    """Runs ``write`` against a fresh temp file next to ``out_path`` (O_EXCL, ``mode``), fsyncs it and
    renames it into place; on any failure (also Ctrl-C) the temp file is removed, so a partial output
    never appears under any name. ``overwrite=False`` refuses an existing ``out_path`` (atomically)."""
    target = os.fspath(out_path)
    temp = temp_sibling_path(target)
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), mode)
    except OSError as err:
        raise SealedFileError("ERR_SEALED_OUTPUT_UNWRITABLE", f"cannot create output next to {target} ({err.strerror or 'error'})") from None
    try:
        with open(fd, "wb", buffering=_IO_BUFFER) as out:
            result = write(out)
            try:
                out.flush()
                os.fsync(out.fileno())
            except OSError as err:
                raise _io_failed("writing the output", err) from None
        try:
            if overwrite:
                os.replace(temp, target)
            else:
                os.link(temp, target)
                os.unlink(temp)
        except OSError as err:
            raise SealedFileError("ERR_SEALED_OUTPUT_UNWRITABLE", f"cannot move output into place at {target} ({err.strerror or 'error'})") from None
        return result
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise


def seal_file(
    in_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    data_key: Buffer,
    *,
    key_id: str,
    key_version: int,
    wrapped_data_key: str,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    name: str | None = None,
    overwrite: bool = True,
) -> SealResult:
    """Seals the regular file ``in_path`` into ``out_path`` (0644). The header's name defaults to the
    input's base name when that is a safe name."""
    base = os.path.basename(os.fspath(in_path))
    bound = name if name is not None else (base if is_safe_relative_name(base) else "")
    with open_input_file(in_path) as src:
        return write_file_atomically(
            out_path,
            SEALED_FILE_MODE,
            lambda out: seal_stream(
                src, out, data_key, key_id=key_id, key_version=key_version, wrapped_data_key=wrapped_data_key, chunk_size=chunk_size, name=bound
            ),
            overwrite=overwrite,
        )


def unseal_file(
    in_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    data_key: Buffer,
    *,
    expect_key_id: str | None = None,
    expect_key_version: int | None = None,
    expect_name: str | None = None,
    overwrite: bool = True,
) -> UnsealResult:
    """Unseals ``in_path`` into ``out_path`` (0600), which appears only once everything verified."""
    with open_input_file(in_path) as src:
        return write_file_atomically(
            out_path,
            PLAINTEXT_FILE_MODE,
            lambda out: unseal_stream(
                src, out, data_key, expect_key_id=expect_key_id, expect_key_version=expect_key_version, expect_name=expect_name
            ),
            overwrite=overwrite,
        )


def read_sealed_header(path: str | os.PathLike[str]) -> SealedHeader:
    """The header of the sealed file at ``path``: structure only, unauthenticated (use it to release the key)."""
    with open_input_file(path) as src:
        return _read_header(src)


def open_sealed(
    path: str | os.PathLike[str],
    client: Client,
    *,
    evidence: EvidenceProvider | None = None,
    key_id: str | None = None,
    key_version: int | None = None,
    name: str | None = None,
    tee_key: TeeKeyType = "x25519",
) -> SealedReader:
    """Opens a sealed file for reading inside a TEE: reads its header, releases its data key from keyward
    by attestation (``evidence``: configfs-tsm by default), and returns a readable binary file object of
    the plaintext. ``key_id`` insists on the key the file must be sealed under (checked before anything
    is released, and again on the authenticated header). Nothing is written anywhere."""
    from .evidence import ConfigfsTsmProvider

    src = open_input_file(path)
    try:
        header = _read_header(src)
        if key_id is not None and key_id != header.key_id:
            raise SealedFileError("ERR_SEALED_KEY_ID_MISMATCH", f"{os.fspath(path)} was sealed under key {header.key_id}, not {key_id}")
        provider = evidence if evidence is not None else ConfigfsTsmProvider()
        released = client.release_key(header.key_id, provider, wrapped_data_key=header.wrapped_data_key, tee_key=tee_key)
    except BaseException:
        src.close()
        raise
    try:
        return SealedReader(src, released.plaintext, header=header, expect_key_id=key_id, expect_key_version=key_version, expect_name=name)
    finally:
        released.zero()
