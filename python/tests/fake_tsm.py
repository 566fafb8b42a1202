"""A fake of the kernel's configfs-tsm report files behind keyward's TsmFileSystem interface (a plain
directory cannot react to writes): entries made by mkdir, ``generation`` bumped by every write, ``outblob``
computed from ``inblob`` by a callback when read, and switches for busy or interfering writers."""

from __future__ import annotations

import errno
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field


def _err(code: int, path: str) -> OSError:
    return OSError(code, os.strerror(code), path)


@dataclass
class _Entry:
    generation: int = 0
    inblob: bytes | None = None
    privlevel: int = 0


@dataclass
class FakeTsmKernel:
    root: str
    provider: str
    outblob: Callable[[bytes, int], bytes]
    auxblob: bytes | None = None
    entries: dict[str, _Entry] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    writes: list[tuple[str, bytes]] = field(default_factory=list)
    #: Reads of outblob during which "another process" writes to the entry.
    interfere: int = 0
    #: Reads of outblob that fail with EBUSY.
    busy_reads: int = 0
    mkdir_errno: int | None = None
    inblob_errno: int | None = None

    def _entry(self, path: str) -> _Entry:
        entry = self.entries.get(os.path.dirname(path))
        if entry is None:
            raise _err(errno.ENOENT, path)
        return entry

    def mkdir(self, path: str) -> None:
        if self.mkdir_errno is not None:
            raise _err(self.mkdir_errno, path)
        if os.path.dirname(path) != self.root:
            raise _err(errno.ENOENT, path)
        self.entries[path] = _Entry()
        self.log.append(f"mkdir {os.path.basename(path)}")

    def rmdir(self, path: str) -> None:
        if self.entries.pop(path, None) is None:
            raise _err(errno.ENOENT, path)
        self.log.append(f"rmdir {os.path.basename(path)}")

    def read_file(self, path: str) -> bytes:
        entry = self._entry(path)
        name = os.path.basename(path)
        if name == "provider":
            return f"{self.provider}\n".encode()
        if name == "generation":
            return f"{entry.generation}\n".encode()
        if name == "outblob":
            if self.busy_reads > 0:
                self.busy_reads -= 1
                raise _err(errno.EBUSY, path)
            if self.interfere > 0:
                self.interfere -= 1
                entry.generation += 1
            if entry.inblob is None:
                raise _err(errno.EINVAL, path)
            return self.outblob(entry.inblob, entry.privlevel)
        if name == "auxblob":
            if self.auxblob is None:
                raise _err(errno.ENOENT, path)
            return self.auxblob
        raise _err(errno.ENOENT, path)

    def write_file(self, path: str, data: bytes) -> None:
        entry = self._entry(path)
        name = os.path.basename(path)
        self.writes.append((name, bytes(data)))
        if name == "inblob":
            if self.inblob_errno is not None:
                raise _err(self.inblob_errno, path)
            if len(data) > 64:
                raise _err(errno.EINVAL, path)
            entry.inblob = bytes(data)
        elif name == "privlevel":
            entry.privlevel = int(data.decode().strip())
        else:
            raise _err(errno.EACCES, path)
        entry.generation += 1


CERT_TABLE_GUIDS = {
    "ark": "c0b406a4-a803-4952-9743-3fb6014cd0ae",
    "ask": "4ab7b379-bbac-4fe4-a02f-05aef327c782",
    "vcek": "63da758d-e664-4564-adc5-f4b93be8accd",
}


def cert_table(certs: dict[str, bytes]) -> bytes:
    """The GUID certificate table a host gives an SNP guest (auxblob): entries, an all-zero terminator, data."""
    header_size = (len(certs) + 1) * 24
    entries, data = b"", b""
    for kind, der in certs.items():
        offset = header_size + len(data)
        entries += uuid.UUID(CERT_TABLE_GUIDS[kind]).bytes + offset.to_bytes(4, "little") + len(der).to_bytes(4, "little")
        data += der
    return entries + bytes(24) + data
