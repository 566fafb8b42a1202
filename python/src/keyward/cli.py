"""``python -m keyward seal|unseal`` (docs/agent.md): seal a file under a fresh data key from
``POST /v1/keys/{id}/datakey``; unseal it inside a TEE by attesting for that data key. Exit codes as the
Node CLI: 0 done, 1 any refusal or failure (``keyward <cmd>: ERR_…: message``), 2 usage, 130/143
interrupted. No partial plaintext is left on error; ``--out`` is never replaced without ``--force``."""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
from collections.abc import Callable, Sequence
from types import FrameType
from typing import NoReturn, TextIO

from ._sealed_format import DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE
from .client import Client
from .errors import ClientError, EvidenceProviderError, KeywardError, SealedFileError
from .evidence import (
    DEFAULT_TSM_REPORT_ROOT,
    CommandEvidenceProvider,
    ConfigfsTsmProvider,
    EvidenceProvider,
    GpuCommandProvider,
    compose_providers,
)
from .sealed import UnsealResult, open_input_file, seal_file, unseal_file, unseal_stream
from .sealed_directory import DirectoryResult, read_sealed_path_header, seal_directory, unseal_directory

_UNITS = {"": 1, "k": 1024, "kib": 1024, "m": 1024 * 1024, "mib": 1024 * 1024}


class UsageError(Exception):
    """Bad flags or values: exit 2 with the usage text."""


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread so temp output is removed on the way out."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m keyward", allow_abbrev=False, description="keyward workload commands (Python SDK)")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    seal = commands.add_parser("seal", allow_abbrev=False, help="seal a file or a directory of shards under a fresh data key (model owner)")
    unseal = commands.add_parser("unseal", allow_abbrev=False, help="attest, receive the sealed file's data key, decrypt (inside the TEE)")
    for sub in (seal, unseal):
        sub.add_argument("--server", required=True, metavar="URL")
        sub.add_argument("--in", dest="input", required=True, metavar="PATH")
        sub.add_argument("--out", required=True, metavar="PATH")
        sub.add_argument("--timeout", metavar="S", help="seconds per HTTP attempt (default 30)")
        sub.add_argument("--force", action="store_true", help="replace --out if it exists")
        sub.add_argument("--quiet", action="store_true")
    seal.add_argument("--token", metavar="T", help="API token with scope keys:datakey (default: KEYWARD_TOKEN)")
    seal.add_argument("--key", required=True, metavar="ID")
    seal.add_argument("--chunk-size", metavar="N", help="bytes or K/M (256 B … 16 MiB; default 1 MiB)")
    unseal.add_argument("--key", metavar="ID", help="the key the file must be sealed under")
    unseal.add_argument("--evidence-cmd", metavar="CMD", help="command printing the evidence array; the binding hex is its last argument")
    unseal.add_argument("--gpu-evidence-cmd", metavar="CMD", help="command printing NVIDIA GPU evidence; the nonce hex is its last argument")
    unseal.add_argument("--tsm-root", metavar="DIR", help=f"configfs-tsm report directory (default {DEFAULT_TSM_REPORT_ROOT})")
    unseal.add_argument("--tee-key", choices=["x25519", "p384"], default="x25519")
    return parser


def parse_chunk_size(text: str | None) -> int | None:
    """``--chunk-size N`` in bytes, or with a K/KiB/M/MiB suffix; checked against the format's limits."""
    if text is None:
        return None
    m = re.fullmatch(r"(\d{1,9})([A-Za-z]*)", text)
    unit = _UNITS.get(m.group(2).lower()) if m else None
    size = int(m.group(1)) * unit if m and unit is not None else -1
    if not MIN_CHUNK_SIZE <= size <= MAX_CHUNK_SIZE:
        raise UsageError(f"--chunk-size must be {MIN_CHUNK_SIZE} bytes to 16 MiB (e.g. 1048576, 64K, 4M)")
    return size


def _client(args: argparse.Namespace, token: str | None = None) -> Client:
    timeout = 30.0
    if args.timeout is not None:
        if not re.fullmatch(r"\d+(\.\d+)?", args.timeout) or not 0 < float(args.timeout) <= 3600:
            raise UsageError("--timeout must be a number of seconds (0 < S ≤ 3600)")
        timeout = float(args.timeout)
    try:
        return Client(args.server, token=token, timeout=timeout)
    except ClientError as err:
        raise UsageError(f"--server: {err.message}") from None


def _unwritable(message: str) -> KeywardError:
    return KeywardError("ERR_CLI_OUTPUT_UNWRITABLE", message)


def preflight_output(path: str, force: bool, directory: bool = False) -> None:
    """Before anything is requested: the parent is writable; a file ``path`` is not a directory and is
    replaced only with ``--force``; a directory ``path`` is absent or empty (as the Node CLI)."""
    parent = os.path.dirname(os.path.abspath(path))
    if not os.access(parent, os.W_OK):
        raise _unwritable(f"cannot write into {parent} ({'EACCES' if os.path.isdir(parent) else 'ENOENT'})")
    if directory:
        if os.path.lexists(path) and not (os.path.isdir(path) and not os.listdir(path)):
            raise _unwritable(f"--out {path} exists and is not an empty directory")
        return
    if os.path.isdir(path):
        raise _unwritable(f"--out {path} is a directory; give a file path")
    if os.path.lexists(path) and not force:
        raise KeywardError("ERR_CLI_OUTPUT_EXISTS", f"--out {path} exists; pass --force to replace it")


def _say(stream: TextIO, quiet: bool, line: str) -> None:
    if not quiet:
        stream.write(f"{line}\n")
        stream.flush()


def _check_paths(args: argparse.Namespace) -> bool:
    """Usage checks on --in / --out; True when --in is a directory (of shards, or a sealed one)."""
    if args.out == "-" and args.command == "seal":
        raise UsageError("seal writes a file; --out - is for unseal")
    if os.path.abspath(args.input) == os.path.abspath(args.out):
        raise UsageError("--in and --out must differ")
    directory = os.path.isdir(args.input)
    if directory and args.command == "seal" and os.path.abspath(args.out).startswith(os.path.abspath(args.input) + os.sep):
        raise UsageError("--out must not be inside the --in directory")
    if directory and args.out == "-":
        raise UsageError("a sealed directory unseals into a directory, not to standard output")
    return directory


def seal_command(args: argparse.Namespace) -> int:
    chunk_size = parse_chunk_size(args.chunk_size)
    token = args.token or os.environ.get("KEYWARD_TOKEN") or None
    if token is None:
        raise UsageError("seal needs an API token with scope keys:datakey: --token T, or KEYWARD_TOKEN in the environment")
    client = _client(args, token)
    directory = _check_paths(args)
    # Refuse what cannot be sealed before asking for a data key.
    if not directory:
        open_input_file(args.input).close()
    preflight_output(args.out, args.force, directory)
    data_key = client.data_key(args.key)
    fields = {"key_id": data_key.key_id, "key_version": data_key.version, "wrapped_data_key": data_key.wrapped}
    if directory:
        try:
            shards = seal_directory(args.input, args.out, data_key.plaintext, chunk_size=chunk_size or DEFAULT_CHUNK_SIZE, **fields)  # type: ignore[arg-type]
        finally:
            data_key.zero()
        _say(
            sys.stdout,
            args.quiet,
            f"sealed {len(shards.files)} files ({shards.plaintext_bytes} bytes) from {args.input} into {args.out} under key {data_key.key_id} "
            f"version {data_key.version}; manifest header sha256 {shards.manifest.sha256}",
        )
        return 0
    try:
        result = seal_file(
            args.input,
            args.out,
            data_key.plaintext,
            key_id=data_key.key_id,
            key_version=data_key.version,
            wrapped_data_key=data_key.wrapped,
            chunk_size=chunk_size if chunk_size is not None else DEFAULT_CHUNK_SIZE,
            overwrite=args.force,
        )
    finally:
        data_key.zero()
    _say(
        sys.stdout,
        args.quiet,
        f"sealed {args.input} ({result.plaintext_bytes} bytes) into {args.out} under key {data_key.key_id} version {data_key.version}; "
        f"header sha256 {result.header.sha256}",
    )
    return 0


def evidence_provider(args: argparse.Namespace) -> EvidenceProvider:
    """configfs-tsm (``--tsm-root``) unless ``--evidence-cmd``; ``--gpu-evidence-cmd`` adds GPUs."""
    if args.evidence_cmd is not None and args.tsm_root is not None:
        raise UsageError("--tsm-root reads configfs-tsm; it does not go with --evidence-cmd")
    try:
        providers: list[EvidenceProvider] = []
        if args.evidence_cmd is not None:
            providers.append(CommandEvidenceProvider(args.evidence_cmd))
        else:
            providers.append(ConfigfsTsmProvider(os.path.abspath(args.tsm_root) if args.tsm_root else DEFAULT_TSM_REPORT_ROOT))
        if args.gpu_evidence_cmd is not None:
            providers.append(GpuCommandProvider(args.gpu_evidence_cmd))
        return compose_providers(providers)
    except EvidenceProviderError as err:
        if err.code == "ERR_AGENT_OPTIONS_INVALID":
            raise UsageError(err.message) from None
        raise


def unseal_command(args: argparse.Namespace) -> int:
    client = _client(args)
    provider = evidence_provider(args)
    directory = _check_paths(args)
    # The header (unauthenticated until unsealing) names the key and carries the wrapped data key to release;
    # for a sealed directory, its manifest's.
    header = read_sealed_path_header(args.input)
    if args.key is not None and args.key != header.key_id:
        raise SealedFileError("ERR_SEALED_KEY_ID_MISMATCH", f"{args.input} was sealed under key {header.key_id}, not {args.key}")
    to_stdout = args.out == "-"
    if not to_stdout:
        preflight_output(args.out, args.force, directory)
    released = client.release_key(header.key_id, provider, wrapped_data_key=header.wrapped_data_key, tee_key=args.tee_key)
    try:
        if directory:
            result: UnsealResult | DirectoryResult = unseal_directory(args.input, args.out, released.plaintext, expect_key_id=args.key)
        elif to_stdout:
            with open_input_file(args.input) as src:
                # Chunks reach stdout only once authenticated; a damaged later chunk still ends with exit 1.
                result = unseal_stream(src, sys.stdout.buffer, released.plaintext, expect_key_id=args.key)
            sys.stdout.buffer.flush()
        else:
            result = unseal_file(args.input, args.out, released.plaintext, expect_key_id=args.key, overwrite=args.force)
    finally:
        released.zero()
    where = "standard output" if to_stdout else args.out
    _say(
        sys.stderr if to_stdout else sys.stdout,
        args.quiet,
        f"unsealed {args.input} into {where}: {result.plaintext_bytes} bytes "
        f"(key {header.key_id} version {header.key_version}; release {released.release_id or 'n/a'})",
    )
    return 0


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args_list = list(sys.argv[1:] if argv is None else argv)
    command = args_list[0] if args_list and not args_list[0].startswith("-") else None
    label = f"keyward {command}" if command in ("seal", "unseal") else "keyward"
    if not args_list or args_list[0] in ("-h", "--help", "help"):
        parser.print_help(sys.stdout if args_list else sys.stderr)
        return 0 if args_list else 2
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        args = parser.parse_args(args_list)
        if args.command is None:
            raise UsageError("give a command: seal or unseal")
        run: Callable[[argparse.Namespace], int] = seal_command if args.command == "seal" else unseal_command
        return run(args)
    except UsageError as err:
        sys.stderr.write(f"{label}: {err}\n\n{parser.format_usage()}")
        return 2
    except KeywardError as err:
        sys.stderr.write(f"{label}: {err.code}: {err.message}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("keyward: interrupted by SIGINT; stopped cleanly (no partial output file was kept)\n")
        return 130
    except _Terminated:
        sys.stderr.write("keyward: interrupted by SIGTERM; stopped cleanly (no partial output file was kept)\n")
        return 143
    except BrokenPipeError:
        sys.stderr.write(f"{label}: ERR_SEALED_IO_FAILED: standard output was closed\n")
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
