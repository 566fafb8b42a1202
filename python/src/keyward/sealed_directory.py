"""Sealed directories of shards (docs/sealed-format.md §6.2), compatible with the Node implementation
(src/agent/sealed/directory.ts): one data key per seal, a sealed file per input file with its relative name
bound into its header, and a sealed manifest pinning every shard's header; the plaintext directory appears
only when every shard verified."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, TypeVar

from ._sealed_format import DEFAULT_CHUNK_SIZE, SealedHeader, is_safe_relative_name
from .errors import KeywardError, SealedFileError
from .sealed import (
    PLAINTEXT_FILE_MODE,
    SEALED_FILE_MODE,
    Buffer,
    SealedReader,
    SealedWriter,
    open_input_file,
    read_sealed_header,
    seal_file,
    temp_sibling_path,
    write_file_atomically,
)

__all__ = ["MANIFEST_FILE", "DirectoryResult", "ManifestEntry", "read_sealed_path_header", "seal_directory", "unseal_directory"]

MANIFEST_FILE = "keyward-manifest.sealed"
SEALED_SUFFIX = ".sealed"
MANIFEST_FORMAT = "keyward-sealed-directory"
#: The manifest is unsealed in memory: cap it (about 40,000 entries of long names).
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
_T = TypeVar("_T")


@dataclass(frozen=True)
class ManifestEntry:
    #: Relative POSIX path of the plaintext file.
    name: str
    #: Plaintext size in bytes.
    size: int
    #: SHA-256 (hex) of the shard's sealed header: pins salt, name and wrapped key, hence its chunks.
    header: str


@dataclass(frozen=True)
class DirectoryResult:
    manifest: SealedHeader
    files: list[ManifestEntry]
    plaintext_bytes: int


def _mismatch(message: str) -> SealedFileError:
    return SealedFileError("ERR_SEALED_DIRECTORY_MISMATCH", f"sealed directory does not match its manifest: {message}")


def _unreadable(message: str) -> SealedFileError:
    return SealedFileError("ERR_SEALED_INPUT_UNREADABLE", message)


def _list_files(root: str, rel: str = "") -> list[tuple[str, int]]:
    """Regular files under ``root`` (following file symlinks, not directory symlinks), sorted relative names."""
    here = os.path.join(root, rel) if rel else root
    try:
        entries = sorted(os.listdir(here))
    except OSError as err:
        raise _unreadable(f"cannot list directory {here} ({err.strerror})") from None
    out: list[tuple[str, int]] = []
    for entry in entries:
        name = f"{rel}/{entry}" if rel else entry
        path = os.path.join(root, name)
        try:
            link = os.lstat(path)
        except OSError as err:
            raise _unreadable(f"cannot read {name} ({err.strerror})") from None
        if stat.S_ISDIR(link.st_mode):
            out.extend(_list_files(root, name))
            continue
        try:
            info = os.stat(path) if stat.S_ISLNK(link.st_mode) else link
        except OSError:
            info = None
        if info is None or not stat.S_ISREG(info.st_mode):
            raise _unreadable(f"not a regular file (or a symlink to one): {name}")
        if not is_safe_relative_name(name):
            raise _unreadable(f"file name cannot be sealed (control characters or backslash): {name}")
        out.append((name, info.st_size))
    return out


def _build_directory_atomically(out_dir: str, mode: int, build: Callable[[str], _T]) -> _T:
    """Builds into a hidden temp sibling of ``out_dir`` (which may not exist, or be an empty directory),
    renamed into place on success and removed on any failure."""
    if os.path.lexists(out_dir) and not (os.path.isdir(out_dir) and not os.listdir(out_dir)):
        raise SealedFileError("ERR_SEALED_OUTPUT_UNWRITABLE", f"output exists and is not an empty directory: {out_dir}")
    temp = temp_sibling_path(out_dir)
    try:
        os.mkdir(temp, mode)
    except OSError as err:
        raise SealedFileError("ERR_SEALED_OUTPUT_UNWRITABLE", f"cannot create output next to {out_dir} ({err.strerror})") from None
    try:
        result = build(temp)
        try:
            os.replace(temp, out_dir)
        except OSError as err:
            raise SealedFileError("ERR_SEALED_OUTPUT_UNWRITABLE", f"cannot move output into place at {out_dir} ({err.strerror})") from None
        return result
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise


def seal_directory(
    in_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    data_key: Buffer,
    *,
    key_id: str,
    key_version: int,
    wrapped_data_key: str,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> DirectoryResult:
    """Seals every regular file under ``in_dir`` into ``out_dir`` as ``<name>.sealed`` under one data key,
    each with its own salt and its relative name in its header, plus ``keyward-manifest.sealed``."""
    source, target = os.fspath(in_dir), os.fspath(out_dir)
    files = _list_files(source)
    if any(name + SEALED_SUFFIX == MANIFEST_FILE for name, _ in files):
        raise _unreadable(f"an input file is named like the manifest ({MANIFEST_FILE[: -len(SEALED_SUFFIX)]})")
    fields = {"key_id": key_id, "key_version": key_version, "wrapped_data_key": wrapped_data_key, "chunk_size": chunk_size}

    def build(temp: str) -> DirectoryResult:
        entries: list[ManifestEntry] = []
        for name, _ in files:
            shard = os.path.join(temp, name + SEALED_SUFFIX)
            os.makedirs(os.path.dirname(shard), exist_ok=True)
            sealed = seal_file(os.path.join(source, name), shard, data_key, name=name, **fields)  # type: ignore[arg-type]
            entries.append(ManifestEntry(name, sealed.plaintext_bytes, sealed.header.sha256))
        doc = {"format": MANIFEST_FORMAT, "version": 1, "files": [e.__dict__ for e in entries]}
        text = json.dumps(doc, separators=(",", ":")).encode()

        def write_manifest(out: BinaryIO) -> SealedHeader:
            with SealedWriter(out, data_key, kind="manifest", **fields) as writer:  # type: ignore[arg-type]
                writer.write(text)
            return writer.header

        manifest = write_file_atomically(os.path.join(temp, MANIFEST_FILE), SEALED_FILE_MODE, write_manifest)
        return DirectoryResult(manifest, entries, sum(e.size for e in entries))

    return _build_directory_atomically(target, 0o755, build)


def _parse_manifest(text: bytes) -> list[ManifestEntry]:
    try:
        doc = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _mismatch("the manifest is not JSON") from None
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or doc.get("format") != MANIFEST_FORMAT or doc.get("version") != 1 or not isinstance(files, list):
        raise _mismatch("unknown manifest format")
    seen: set[str] = set()
    entries = []
    for entry in files:
        name, size, header = (entry.get(k) for k in ("name", "size", "header")) if isinstance(entry, dict) else (None, None, None)
        ok = (
            isinstance(name, str)
            and is_safe_relative_name(name)
            and name not in seen
            and isinstance(size, int)
            and not isinstance(size, bool)
            and 0 <= size < 2**53
            and isinstance(header, str)
            and re.fullmatch(r"[0-9a-f]{64}", header) is not None
        )
        if not ok:
            raise _mismatch("invalid manifest entry")
        seen.add(str(name))
        entries.append(ManifestEntry(str(name), int(size), str(header)))  # type: ignore[arg-type]
    return entries


def _read_manifest(in_dir: str, data_key: Buffer, key_id: str | None, key_version: int | None) -> tuple[SealedHeader, list[ManifestEntry]]:
    reader = SealedReader(open_input_file(os.path.join(in_dir, MANIFEST_FILE)), data_key, expect_key_id=key_id, expect_key_version=key_version)
    with reader:
        if reader.header.kind != "manifest":
            raise _mismatch(f"{MANIFEST_FILE} is not a manifest")
        text = reader.read(MAX_MANIFEST_BYTES + 1)
        if len(text) > MAX_MANIFEST_BYTES:
            raise _mismatch("the manifest is too large")
        if reader.read(1):
            raise _mismatch("the manifest is too large")
        return reader.header, _parse_manifest(text)


def _check_shard_set(in_dir: str, entries: list[ManifestEntry]) -> None:
    """Every ``*.sealed`` file present must be listed in the manifest and every listed one present."""
    present = {name for name, _ in _list_files(in_dir) if name.endswith(SEALED_SUFFIX) and name != MANIFEST_FILE}
    for entry in entries:
        if entry.name + SEALED_SUFFIX not in present:
            raise _mismatch(f"missing {entry.name}{SEALED_SUFFIX}")
        present.discard(entry.name + SEALED_SUFFIX)
    if present:
        raise _mismatch(f"unexpected {sorted(present)[0]} (not in the manifest)")


def _unseal_shard(in_dir: str, temp: str, entry: ManifestEntry, data_key: Buffer, key_id: str | None, key_version: int | None) -> None:
    target = os.path.join(temp, entry.name)
    os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
    shard = os.path.join(in_dir, entry.name + SEALED_SUFFIX)
    header = read_sealed_header(shard)
    # Why: a shard renamed or swapped into this slot carries another name; one from another seal (rolled
    # back, or under another data key) carries another header. Both are refused before any byte is written.
    if header.kind != "file" or header.name != entry.name:
        raise SealedFileError("ERR_SEALED_NAME_MISMATCH", f"{entry.name}{SEALED_SUFFIX} carries another file's name")
    if header.sha256 != entry.header:
        raise _mismatch(f"{entry.name}{SEALED_SUFFIX} is not the file the manifest lists")

    def write(out: BinaryIO) -> None:
        with SealedReader(open_input_file(shard), data_key, expect_key_id=key_id, expect_key_version=key_version, expect_name=entry.name) as reader:
            if reader.header.raw != header.raw:
                raise _mismatch(f"{entry.name}{SEALED_SUFFIX} changed while it was read")
            for chunk in reader.verified_chunks():
                out.write(chunk)
            if reader.plaintext_bytes != entry.size:
                raise _mismatch(f"{entry.name} has another size than the manifest lists")

    write_file_atomically(target, PLAINTEXT_FILE_MODE, write)


def unseal_directory(
    in_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    data_key: Buffer,
    *,
    expect_key_id: str | None = None,
    expect_key_version: int | None = None,
) -> DirectoryResult:
    """Unseals a sealed directory into ``out_dir`` (absent or empty): the manifest, exactly its shards, each
    shard's name and header, then every chunk. The plaintext directory (0700) appears only when all verified."""
    source, target = os.fspath(in_dir), os.fspath(out_dir)
    header, entries = _read_manifest(source, data_key, expect_key_id, expect_key_version)
    _check_shard_set(source, entries)

    def build(temp: str) -> DirectoryResult:
        for entry in entries:
            _unseal_shard(source, temp, entry, data_key, expect_key_id, expect_key_version)
        return DirectoryResult(header, entries, sum(e.size for e in entries))

    try:
        return _build_directory_atomically(target, 0o700, build)
    except KeywardError:
        raise
    except OSError as err:
        raise SealedFileError("ERR_SEALED_IO_FAILED", f"writing the unsealed directory failed ({err.strerror})") from None


def read_sealed_path_header(path: str | os.PathLike[str]) -> SealedHeader:
    """The header a sealed file starts with or, for a sealed directory, its manifest's header (unauthenticated)."""
    p = os.fspath(path)
    return read_sealed_header(os.path.join(p, MANIFEST_FILE) if os.path.isdir(p) else p)
