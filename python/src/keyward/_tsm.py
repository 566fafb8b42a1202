"""configfs-tsm reports (Linux Documentation/ABI/testing/configfs-tsm, kernel 6.7+; docs/simulator.md): mkdir
an entry under /sys/kernel/config/tsm/report, write ``inblob`` = bind, read ``outblob`` (SEV-SNP report or
TDX quote), ``auxblob`` (the SNP GUID certificate table) and ``provider``, and check ``generation``."""

from __future__ import annotations

import base64
import errno
import os
import re
import secrets
import time
from typing import Any, Protocol

from .errors import EvidenceProviderError

DEFAULT_TSM_REPORT_ROOT = "/sys/kernel/config/tsm/report"
#: SEV-SNP ATTESTATION_REPORT size.
SNP_REPORT_SIZE = 0x4A0
_PROVIDERS = {"sev_guest": "snp", "tdx_guest": "tdx"}

# GUID certificate table (GHCB spec "SNP Extended Guest Request"): {GUID[16], offset u32 LE, length u32 LE}...
_CERT_GUIDS = {
    "c0b406a4-a803-4952-9743-3fb6014cd0ae": "ark",
    "4ab7b379-bbac-4fe4-a02f-05aef327c782": "ask",
    "63da758d-e664-4564-adc5-f4b93be8accd": "vcek",
    "a8074bc2-a25a-483e-aae6-39c045a0b8a1": "vlek",
    "92f81bc3-5811-4d3d-97ff-d19f88dc67ea": "crl",
}
_ENTRY_SIZE = 24
_MAX_ENTRIES = 32
_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\s]+)-----END \1-----")


class TsmFileSystem(Protocol):
    """The file operations the provider needs; tests pass a fake that behaves like the kernel's files."""

    def mkdir(self, path: str) -> None: ...
    def rmdir(self, path: str) -> None: ...
    def read_file(self, path: str) -> bytes: ...
    def write_file(self, path: str, data: bytes) -> None: ...


class OsTsmFileSystem:
    def mkdir(self, path: str) -> None:
        os.mkdir(path)

    def rmdir(self, path: str) -> None:
        os.rmdir(path)

    def read_file(self, path: str) -> bytes:
        with open(path, "rb") as f:
            return f.read()

    def write_file(self, path: str, data: bytes) -> None:
        with open(path, "wb") as f:
            f.write(data)


class _GenerationConflict(Exception):
    """Our entry changed under us (or the driver was busy): retried, then reported as busy."""


def _unavailable(root: str, err: OSError) -> EvidenceProviderError:
    if err.errno in (errno.EACCES, errno.EPERM):
        why = "permission denied (creating a report entry needs root)"
    elif err.errno in (errno.ENXIO, errno.ENODEV):
        why = "no TSM provider is registered (the sev-guest / tdx-guest driver is not loaded)"
    else:
        why = "the directory does not exist: this is not an SEV-SNP or TDX confidential VM, configfs is not mounted, or the kernel predates 6.7"
    return EvidenceProviderError("ERR_AGENT_TSM_UNAVAILABLE", f"configfs-tsm is not available at {root}: {why}.")


def _failed(what: str, err: OSError | None = None) -> EvidenceProviderError:
    detail = f" ({errno.errorcode.get(err.errno, err.errno)})" if err is not None and err.errno else ""
    return EvidenceProviderError("ERR_AGENT_EVIDENCE_FAILED", f"configfs-tsm: {what}{detail}.")


def _decimal(data: bytes, name: str) -> int:
    text = data.decode("latin-1").strip()
    if not text.isdigit():
        raise _failed(f"{name} is not a number")
    return int(text)


def _step(what: str, fs_call: Any, *args: Any) -> Any:
    try:
        return fs_call(*args)
    except OSError as err:
        raise _failed(what, err) from None


def _request_report(fs: TsmFileSystem, root: str, entry: str, bind: bytes, privilege_level: int | None) -> tuple[str, bytes, bytes | None]:
    try:
        provider = fs.read_file(os.path.join(entry, "provider")).decode("latin-1").strip()
    except OSError as err:
        raise _unavailable(root, err) from None
    tee = _PROVIDERS.get(provider)
    if tee is None:
        raise _failed(f'the TSM provider "{provider[:40]}" is not supported (only sev_guest and tdx_guest)')
    before = _decimal(_step("reading generation failed", fs.read_file, os.path.join(entry, "generation")), "generation")
    writes = 0
    if privilege_level is not None:
        _step(f"writing privlevel {privilege_level} failed", fs.write_file, os.path.join(entry, "privlevel"), f"{privilege_level}\n".encode())
        writes += 1
    _step("writing inblob failed", fs.write_file, os.path.join(entry, "inblob"), bind)
    writes += 1
    try:
        outblob = fs.read_file(os.path.join(entry, "outblob"))
    except OSError as err:
        # EBUSY/EAGAIN: the guest driver is serving someone else right now; worth another attempt.
        if err.errno in (errno.EBUSY, errno.EAGAIN):
            raise _GenerationConflict() from None
        raise _failed("the kernel did not produce a report (reading outblob failed)", err) from None
    auxblob: bytes | None = None
    if tee == "snp":
        try:
            auxblob = fs.read_file(os.path.join(entry, "auxblob"))
        except FileNotFoundError:
            auxblob = None
        except OSError as err:
            raise _failed("reading auxblob failed", err) from None
    after = _decimal(_step("reading generation failed", fs.read_file, os.path.join(entry, "generation")), "generation")
    if after != before + writes:
        raise _GenerationConflict()
    if not outblob:
        raise _failed("outblob is empty")
    return tee, outblob, auxblob


def _snp_report(outblob: bytes) -> bytes:
    """Exactly 0x4A0 bytes; a longer blob only when the rest is zero padding (the firmware's response buffer)."""
    if len(outblob) < SNP_REPORT_SIZE:
        raise _failed(f"outblob holds {len(outblob)} bytes, not an SEV-SNP report (0x4A0 bytes)")
    if any(outblob[SNP_REPORT_SIZE:]):
        raise _failed(f"outblob holds {len(outblob)} bytes, more than one SEV-SNP report")
    return outblob[:SNP_REPORT_SIZE]


def _guid(raw: bytes) -> str:
    h = raw.hex()
    return f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _single_der(data: bytes, kind: str) -> bytes:
    """Exactly one DER structure, given as DER or as a single PEM block."""
    text = data.strip(b"\x00 \t\r\n")
    if text.startswith(b"-----BEGIN"):
        blocks = _PEM.findall(text)
        if len(blocks) != 1:
            raise ValueError(f"the {kind} entry must hold exactly one PEM block")
        return base64.b64decode(b"".join(blocks[0][1].split()))
    if len(data) < 2 or data[0] != 0x30:
        raise ValueError(f"the {kind} entry is neither DER nor PEM")
    first = data[1]
    if first < 0x80:
        length, header = first, 2
    else:
        n = first & 0x7F
        if n == 0 or n > 4 or 2 + n > len(data):
            raise ValueError(f"the {kind} entry has a bad DER length")
        length, header = int.from_bytes(data[2 : 2 + n], "big"), 2 + n
    if header + length != len(data):
        raise ValueError(f"the {kind} entry must hold exactly one DER structure")
    return data


def parse_snp_cert_table(table: bytes) -> dict[str, bytes]:
    """The strict GUID table: a terminator, entries after the table and inside the data, no overlaps or
    repeated GUIDs. Returns DER by kind (ark, ask, vcek, vlek, crl); unknown GUIDs are skipped."""
    entries: list[tuple[str, int, int]] = []
    pos = 0
    while True:
        if pos + _ENTRY_SIZE > len(table):
            raise ValueError("no terminating all-zero entry")
        raw = table[pos : pos + 16]
        offset = int.from_bytes(table[pos + 16 : pos + 20], "little")
        length = int.from_bytes(table[pos + 20 : pos + 24], "little")
        if not any(raw):
            if offset or length:
                raise ValueError("the terminating entry has a non-zero offset or length")
            break
        if len(entries) >= _MAX_ENTRIES:
            raise ValueError(f"more than {_MAX_ENTRIES} entries")
        entries.append((_guid(raw), offset, length))
        pos += _ENTRY_SIZE
    previous_end = (len(entries) + 1) * _ENTRY_SIZE
    seen: set[str] = set()
    for guid, offset, length in sorted(entries, key=lambda e: e[1]):
        if guid in seen:
            raise ValueError(f"GUID {guid} appears twice")
        seen.add(guid)
        if length == 0 or offset < previous_end or offset + length > len(table):
            raise ValueError(f"the entry {guid} is empty, overlaps another or extends past the data")
        previous_end = offset + length
    out: dict[str, bytes] = {}
    for guid, offset, length in entries:
        kind = _CERT_GUIDS.get(guid)
        if kind is not None:
            out[kind] = _single_der(table[offset : offset + length], kind)
    return out


def _snp_certificates(auxblob: bytes | None) -> list[bytes]:
    """VCEK/VLEK, ASK/ASVK and ARK from the certificate table in auxblob, DER, in table order of kind."""
    if not auxblob or not any(auxblob):
        return []
    try:
        table = parse_snp_cert_table(auxblob)
    except ValueError as err:
        raise _failed(f"auxblob is not a valid SEV-SNP certificate table ({err})") from None
    return [table[kind] for kind in ("vcek", "vlek", "ask", "ark") if kind in table]


def _to_wire(tee: str, outblob: bytes, auxblob: bytes | None) -> dict[str, Any]:
    if tee == "tdx":
        return {"type": "tdx", "quote": base64.b64encode(outblob).decode("ascii")}
    return {
        "type": "snp",
        "report": base64.b64encode(_snp_report(outblob)).decode("ascii"),
        "certs": [base64.b64encode(der).decode("ascii") for der in _snp_certificates(auxblob)],
    }


def _collect_once(fs: TsmFileSystem, root: str, bind: bytes, privilege_level: int | None) -> dict[str, Any]:
    # Our own entry per request (the kernel's advice against conflicts); random so agents never share one.
    entry = os.path.join(root, f"keyward-{secrets.token_hex(8)}")
    try:
        fs.mkdir(entry)
    except OSError as err:
        if err.errno in (errno.ENOENT, errno.EACCES, errno.EPERM, errno.ENXIO, errno.ENODEV):
            raise _unavailable(root, err) from None
        raise _failed(f"creating a report entry in {root} failed", err) from None
    try:
        return _to_wire(*_request_report(fs, root, entry, bind, privilege_level))
    finally:
        try:
            fs.rmdir(entry)
        except OSError:
            pass


def collect_tsm_report(fs: TsmFileSystem, root: str, bind: bytes, attempts: int, privilege_level: int | None) -> dict[str, Any]:
    """One SEV-SNP or TDX evidence item; retried when another writer changed our entry or the driver was busy."""
    for attempt in range(1, attempts + 1):
        try:
            return _collect_once(fs, root, bind, privilege_level)
        except _GenerationConflict:
            if attempt < attempts:
                time.sleep(0.02 * attempt)
    raise EvidenceProviderError(
        "ERR_AGENT_TSM_BUSY", f"configfs-tsm: another process kept writing to the report entry ({attempts} attempts); try again."
    )
