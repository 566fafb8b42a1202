"""Where a workload's evidence comes from (docs/design.md "Release protocol", steps 2-3; docs/simulator.md): the
Linux configfs-tsm report interface of SEV-SNP and TDX guests, an evidence command (the whole evidence
array, e.g. ``keyward dev evidence --simulate snp``), and a GPU evidence command; all return the JSON wire
form ``POST /v1/attest`` takes, bound to ``bind`` = SHA-512(nonce ‖ thumbprint)."""

from __future__ import annotations

import base64
import binascii
import errno
import json
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ._tsm import DEFAULT_TSM_REPORT_ROOT, OsTsmFileSystem, TsmFileSystem, collect_tsm_report
from .errors import EvidenceProviderError

__all__ = [
    "DEFAULT_TSM_REPORT_ROOT",
    "CommandEvidenceProvider",
    "ConfigfsTsmProvider",
    "EvidenceProvider",
    "GpuCommandProvider",
    "OsTsmFileSystem",
    "TsmFileSystem",
    "WireEvidence",
    "command_environment",
    "compose_providers",
    "split_command_line",
]

WireEvidence = dict[str, Any]

BIND_LENGTH = 64
GPU_NONCE_LENGTH = 32
DEFAULT_COMMAND_TIMEOUT = 60.0
MAX_COMMAND_OUTPUT = 16 * 1024 * 1024
MAX_GPU_REPORTS = 32
#: One CPU item and at most 32 GPUs, as the server accepts.
MAX_EVIDENCE_ITEMS = 1 + MAX_GPU_REPORTS
EVIDENCE_TYPES = ("snp", "tdx", "sgx", "nvidia-gpu", "nvidia-nras", "nitro")
#: Variables holding keyward secrets: never handed to commands the workload runs.
SECRET_VARIABLES = ("KEYWARD_TOKEN", "KEYWARD_BOOTSTRAP_TOKEN")
#: The SPDM request nonce sits at report[0x04..0x24) (GET_MEASUREMENTS: version, code, param1, param2, nonce).
_SPDM_NONCE_OFFSET = 0x04
#: REPORT_DATA: SNP ATTESTATION_REPORT 0x50; TDX v4 quote = header (0x30) ‖ TD report whose REPORT_DATA is at 0x208.
_SNP_REPORT_DATA = 0x50
_TDX_V4_REPORT_DATA = 0x30 + 0x208


class EvidenceProvider(Protocol):
    """Produces evidence bound to ``bind`` (64 bytes): REPORT_DATA = bind for CPU TEEs, the SPDM nonce =
    bind[0:32] for GPUs."""

    @property
    def name(self) -> str: ...

    def collect(self, bind: bytes) -> list[WireEvidence]: ...


def _options(message: str) -> EvidenceProviderError:
    return EvidenceProviderError("ERR_AGENT_OPTIONS_INVALID", message)


def check_bind(bind: bytes) -> None:
    if not isinstance(bind, bytes | bytearray) or len(bind) != BIND_LENGTH:
        raise _options(f"The release binding must be {BIND_LENGTH} bytes.")


def command_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a command the workload runs: its own, minus keyward's secrets."""
    source = os.environ if env is None else env
    return {k: v for k, v in source.items() if k not in SECRET_VARIABLES}


def split_command_line(line: str) -> list[str]:
    """Splits at ASCII whitespace; nothing else is interpreted (no quotes, variables or globs: no shell)."""
    argv = line.split()
    if not argv:
        raise _options("The evidence command is empty.")
    return argv


def _b64decode(text: object) -> bytes | None:
    if not isinstance(text, str):
        return None
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_" if ("-" in text or "_" in text) else None, validate=True)
    except (binascii.Error, ValueError):
        return None


class ConfigfsTsmProvider:
    """SEV-SNP or TDX evidence from configfs-tsm (Linux 6.7+): one item per collect, per the kernel's ``provider``.

    Codes: ``ERR_AGENT_TSM_UNAVAILABLE`` (no report directory, permission denied, no TSM provider),
    ``ERR_AGENT_TSM_BUSY`` (the entry kept changing, or the driver stayed busy), ``ERR_AGENT_EVIDENCE_FAILED``.
    """

    name = "configfs-tsm"

    def __init__(
        self,
        root: str = DEFAULT_TSM_REPORT_ROOT,
        *,
        attempts: int = 3,
        privilege_level: int | None = None,
        fs: TsmFileSystem | None = None,
    ) -> None:
        if not isinstance(attempts, int) or attempts < 1:
            raise _options("attempts must be a positive integer.")
        if privilege_level is not None and not (isinstance(privilege_level, int) and 0 <= privilege_level <= 3):
            raise _options("The privilege level must be 0..3.")
        self.root = root
        self.attempts = attempts
        self.privilege_level = privilege_level
        self.fs: TsmFileSystem = fs if fs is not None else OsTsmFileSystem()

    def collect(self, bind: bytes) -> list[WireEvidence]:
        check_bind(bind)
        return [collect_tsm_report(self.fs, self.root, bytes(bind), self.attempts, self.privilege_level)]


class _CommandFailed(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind  # "failed" | "timeout" | "too-large"


def run_command(argv: Sequence[str], env: Mapping[str, str], timeout: float, limit: int = MAX_COMMAND_OUTPUT) -> bytes:
    """Runs argv without a shell, in its own process group (a timeout ends whatever it started too), and
    returns its stdout when it exits 0 in time. stderr is kept (its tail) only to explain a failure."""
    try:
        child = subprocess.Popen(
            list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(env), start_new_session=True
        )
    except OSError as err:
        why = errno.errorcode.get(err.errno or 0, str(err))
        raise _CommandFailed("failed", f'"{argv[0]}" could not be started ({why})') from None
    assert child.stdout is not None and child.stderr is not None
    out = bytearray()
    err_tail = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(child.stdout, selectors.EVENT_READ)
        selector.register(child.stderr, selectors.EVENT_READ)
        try:
            while selector.get_map():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise _CommandFailed("timeout", f"did not finish within {timeout:g} s")
                for key, _ in selector.select(left):
                    chunk = os.read(key.fd, 65536)
                    if not chunk:
                        selector.unregister(key.fileobj)
                    elif key.fileobj is child.stdout:
                        out += chunk
                        if len(out) > limit:
                            raise _CommandFailed("too-large", f"printed more than {limit} bytes")
                    else:
                        err_tail = (err_tail + chunk)[-4096:]
            code = child.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _kill_group(child)
            raise _CommandFailed("timeout", f"did not finish within {timeout:g} s") from None
        except BaseException:
            # Also on Ctrl-C / SIGTERM: the command and whatever it started do not outlive the workload.
            _kill_group(child)
            raise
        finally:
            child.stdout.close()
            child.stderr.close()
    if code != 0:
        how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
        tail = err_tail.decode("utf-8", errors="replace").strip()
        if tail:
            how += ": " + (tail if len(tail) <= 300 else "…" + tail[-300:])
        raise _CommandFailed("failed", how)
    return bytes(out)


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    child.wait()


def _check_report_data(item: WireEvidence, bind: bytes, index: int) -> None:
    """A CPU item must carry bind as REPORT_DATA: checked here so a wrong binding is a clear local error."""
    blob = _b64decode(item.get("report") if item["type"] == "snp" else item.get("quote"))
    if blob is None:
        raise _invalid_evidence(f"entry {index} has no base64 {'report' if item['type'] == 'snp' else 'quote'}.")
    if item["type"] == "snp":
        at = _SNP_REPORT_DATA
    elif len(blob) >= 2 and int.from_bytes(blob[0:2], "little") == 4:
        at = _TDX_V4_REPORT_DATA
    else:
        return
    if blob[at : at + BIND_LENGTH] != bind:
        raise _invalid_evidence(f"entry {index}'s REPORT_DATA is not the binding it was given.")


def _invalid_evidence(message: str) -> EvidenceProviderError:
    return EvidenceProviderError("ERR_AGENT_EVIDENCE_FAILED", f"The evidence command's output: {message}")


def parse_evidence_output(stdout: bytes, bind: bytes) -> list[WireEvidence]:
    """The evidence command's stdout: a non-empty JSON array of evidence items ``{"type": ...}``."""
    try:
        doc = json.loads(stdout)
    except ValueError:
        raise _invalid_evidence("not JSON.") from None
    if not isinstance(doc, list):
        raise _invalid_evidence("not a JSON array.")
    if not doc:
        raise _invalid_evidence("an empty array (no evidence).")
    if len(doc) > MAX_EVIDENCE_ITEMS:
        raise _invalid_evidence(f"more than {MAX_EVIDENCE_ITEMS} items.")
    for index, item in enumerate(doc):
        if not isinstance(item, dict) or item.get("type") not in EVIDENCE_TYPES:
            raise _invalid_evidence(f"entry {index} is not an evidence item with a known \"type\".")
        if item["type"] in ("snp", "tdx"):
            _check_report_data(item, bind, index)
    return doc


class CommandEvidenceProvider:
    """The whole evidence set from a command: argv (a string is split at whitespace; no shell), the binding
    as 128 hex digits appended as the last argument (also in ``KEYWARD_BIND``), one JSON array of
    evidence items on stdout. Failures are ``ERR_AGENT_EVIDENCE_FAILED``."""

    name = "evidence-cmd"

    def __init__(self, command: str | Sequence[str], *, env: Mapping[str, str] | None = None, timeout: float = DEFAULT_COMMAND_TIMEOUT) -> None:
        self.argv = split_command_line(command) if isinstance(command, str) else list(command)
        if not self.argv or not self.argv[0]:
            raise _options("The evidence command is empty.")
        if not timeout > 0:
            raise _options("The evidence command timeout must be positive.")
        self.env = command_environment(env)
        self.timeout = timeout

    def collect(self, bind: bytes) -> list[WireEvidence]:
        check_bind(bind)
        hex_bind = bytes(bind).hex()
        try:
            stdout = run_command([*self.argv, hex_bind], {**self.env, "KEYWARD_BIND": hex_bind}, self.timeout)
        except _CommandFailed as failure:
            raise EvidenceProviderError("ERR_AGENT_EVIDENCE_FAILED", f"The evidence command {failure}") from None
        return parse_evidence_output(stdout, bytes(bind))


class GpuCommandProvider:
    """NVIDIA GPU evidence from a command, as the Node agent's ``--gpu-evidence-cmd`` (docs/simulator.md):
    the nonce bind[0:32] as hex is the last argument and ``KEYWARD_GPU_NONCE``; stdout is
    ``[{"report": b64, "certChain": pem}, ...]``. Codes ``ERR_AGENT_GPU_CMD_*``."""

    name = "gpu-cmd"

    def __init__(self, command: str | Sequence[str], *, env: Mapping[str, str] | None = None, timeout: float = DEFAULT_COMMAND_TIMEOUT) -> None:
        self.argv = split_command_line(command) if isinstance(command, str) else list(command)
        if not self.argv or not self.argv[0]:
            raise _options("The GPU evidence command is empty.")
        if not timeout > 0:
            raise _options("The GPU command timeout must be positive.")
        self.env = command_environment(env)
        self.timeout = timeout

    def collect(self, bind: bytes) -> list[WireEvidence]:
        check_bind(bind)
        nonce = bytes(bind[:GPU_NONCE_LENGTH])
        try:
            stdout = run_command([*self.argv, nonce.hex()], {**self.env, "KEYWARD_GPU_NONCE": nonce.hex()}, self.timeout)
        except _CommandFailed as failure:
            code = {"timeout": "ERR_AGENT_GPU_CMD_TIMEOUT", "too-large": "ERR_AGENT_GPU_CMD_OUTPUT_INVALID"}.get(failure.kind, "ERR_AGENT_GPU_CMD_FAILED")
            raise EvidenceProviderError(code, f"The GPU evidence command {failure}") from None
        return _parse_gpu_output(stdout, nonce)


def _parse_gpu_output(stdout: bytes, nonce: bytes) -> list[WireEvidence]:
    def invalid(message: str) -> EvidenceProviderError:
        return EvidenceProviderError("ERR_AGENT_GPU_CMD_OUTPUT_INVALID", f"The GPU evidence command's output: {message}")

    try:
        doc = json.loads(stdout)
    except ValueError:
        raise invalid("not JSON.") from None
    if not isinstance(doc, list):
        raise invalid("not a JSON array.")
    if not doc:
        raise invalid("an empty array (no GPU reported).")
    if len(doc) > MAX_GPU_REPORTS:
        raise invalid(f"more than {MAX_GPU_REPORTS} GPUs.")
    out: list[WireEvidence] = []
    for index, entry in enumerate(doc):
        if not isinstance(entry, dict):
            raise invalid(f"entry {index} is not an object.")
        report = _b64decode(entry.get("report"))
        if not report:
            raise invalid(f'entry {index} has no base64 "report".')
        chain = entry.get("certChain")
        if not isinstance(chain, str) or "-----BEGIN CERTIFICATE-----" not in chain:
            raise invalid(f'entry {index} has no PEM "certChain".')
        if report[_SPDM_NONCE_OFFSET : _SPDM_NONCE_OFFSET + len(nonce)] != nonce:
            raise invalid(f"entry {index}'s report does not carry the nonce it was given.")
        out.append({"type": "nvidia-gpu", "report": base64.b64encode(report).decode("ascii"), "certChain": chain})
    return out


class _Composed:
    def __init__(self, providers: Sequence[EvidenceProvider]) -> None:
        self.providers = list(providers)
        self.name = "+".join(p.name for p in providers)

    def collect(self, bind: bytes) -> list[WireEvidence]:
        check_bind(bind)
        out: list[WireEvidence] = []
        for provider in self.providers:
            out.extend(provider.collect(bind))
        return out


def compose_providers(providers: Sequence[EvidenceProvider]) -> EvidenceProvider:
    """Providers in sequence (the CPU TEE, then its GPUs): one evidence set, all bound to ``bind``."""
    if not providers:
        raise _options("No evidence provider was configured.")
    if len(providers) == 1:
        return providers[0]
    return _Composed(providers)
