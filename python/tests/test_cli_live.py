"""``python -m keyward seal|unseal`` against a live keyward (conftest.py) with simulated SNP evidence from the
Node simulator as ``--evidence-cmd``: round trips between the Python and the Node CLI in every direction,
tampered files and a policy denial refused with the server's or the format's code and no plaintext left
behind, and the usage errors, refusals and exit codes the Node CLI has."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import World, clean_env, free_port, run_python_cli

PLAINTEXT = os.urandom(300 * 1024 + 77)


def leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if "keyward-tmp" in p.name]


@pytest.fixture(scope="module")
def files(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("files")
    (d / "model.safetensors").write_bytes(PLAINTEXT)
    sealed = seal_py(world, d / "model.safetensors", d / "model.py.sealed", "--chunk-size", "64K")
    assert sealed.returncode == 0, sealed.stderr.decode()
    return d


def seal_py(world: World, src: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[bytes]:
    return run_python_cli("seal", "--server", world.url, "--key", world.key_id, "--in", str(src), "--out", str(out), *extra, env={"KEYWARD_TOKEN": world.token})


def unseal_py(world: World, src: Path, out: Path | str, *extra: str, evidence: str | None = None) -> subprocess.CompletedProcess[bytes]:
    return run_python_cli("unseal", "--server", world.url, "--in", str(src), "--out", str(out), "--evidence-cmd", evidence or world.evidence_cmd(), *extra)


class TestRoundTrips:
    def test_python_seal_python_unseal(self, world: World, files: Path) -> None:
        out = files / "py-py.out"
        res = unseal_py(world, files / "model.py.sealed", out)
        assert res.returncode == 0, res.stderr.decode()
        assert out.read_bytes() == PLAINTEXT
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        assert f"unsealed {files / 'model.py.sealed'} into {out}: {len(PLAINTEXT)} bytes (key {world.key_id} version 1; release ".encode() in res.stdout

    def test_seal_reports_key_version_and_header_hash(self, world: World, files: Path) -> None:
        out = files / "again.sealed"
        res = run_python_cli("seal", "--server", world.url, "--token", world.token, "--key", world.key_id, "--in", str(files / "model.safetensors"), "--out", str(out))
        assert res.returncode == 0, res.stderr.decode()
        text = res.stdout.decode()
        assert text.startswith(f"sealed {files / 'model.safetensors'} ({len(PLAINTEXT)} bytes) into {out} under key {world.key_id} version 1; header sha256 ")
        assert stat.S_IMODE(out.stat().st_mode) & 0o077 != 0o077

    def test_node_seal_python_unseal(self, world: World, files: Path) -> None:
        sealed = files / "model.node.sealed"
        res = world.node_cli("seal", "--server", world.url, "--key", world.key_id, "--in", str(files / "model.safetensors"), "--out", str(sealed), "--chunk-size", "4K", env={"KEYWARD_TOKEN": world.token})
        assert res.returncode == 0, res.stderr.decode()
        out = files / "node-py.out"
        un = unseal_py(world, sealed, out, "--key", world.key_id, "--tee-key", "p384")
        assert un.returncode == 0, un.stderr.decode()
        assert out.read_bytes() == PLAINTEXT

    def test_python_seal_node_unseal(self, world: World, files: Path) -> None:
        out = files / "py-node.out"
        res = world.node_cli("unseal", "--server", world.url, "--in", str(files / "model.py.sealed"), "--out", str(out), "--simulate", "snp", "--data-dir", str(world.agent_dir))
        assert res.returncode == 0, res.stderr.decode()
        assert out.read_bytes() == PLAINTEXT

    def test_out_dash_streams_to_stdout_with_the_message_on_stderr(self, world: World, files: Path) -> None:
        res = unseal_py(world, files / "model.py.sealed", "-")
        assert res.returncode == 0, res.stderr.decode()
        assert res.stdout == PLAINTEXT
        assert b"into standard output" in res.stderr


def flip_from_end(b: bytearray, offset: int) -> bytearray:
    b[len(b) - offset] ^= 0x01
    return b


TAMPERING = [
    ("a corrupted chunk", lambda b: flip_from_end(b, 1000), "ERR_SEALED_CHUNK_AUTH_FAILED"),
    ("a cut inside the last record", lambda b: b[:-7], "ERR_SEALED_TRUNCATED"),
    ("an appended byte", lambda b: b + b"\x00", "ERR_SEALED_EXTENDED"),
    ("an edited chunk size in the header", lambda b: b[:0x10] + (8192).to_bytes(4, "big") + b[0x14:], "ERR_SEALED_HEADER_AUTH_FAILED"),
    ("a file that is not sealed", lambda b: bytearray(PLAINTEXT), "ERR_SEALED_NOT_SEALED"),
]


@pytest.mark.parametrize(("name", "edit", "code"), TAMPERING, ids=[t[0] for t in TAMPERING])
def test_tampered_file_is_refused_with_no_plaintext_output(world: World, files: Path, tmp_path: Path, name: str, edit, code: str) -> None:  # type: ignore[no-untyped-def]
    tampered = tmp_path / "tampered.sealed"
    tampered.write_bytes(bytes(edit(bytearray((files / "model.py.sealed").read_bytes()))))
    out = tmp_path / "out.bin"
    res = unseal_py(world, tampered, out)
    assert res.returncode == 1
    assert f"keyward unseal: {code}: ".encode() in res.stderr
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_wrong_measurement_is_denied_with_the_servers_code(world: World, files: Path, tmp_path: Path) -> None:
    out = tmp_path / "refused.bin"
    res = unseal_py(world, files / "model.py.sealed", out, evidence=world.evidence_cmd("--measurement", "ab" * 48))
    assert res.returncode == 1
    assert b"keyward unseal: ERR_POLICY_DENIED: " in res.stderr
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_a_key_whose_policy_does_not_match_is_denied(world: World, files: Path, tmp_path: Path) -> None:
    sealed = tmp_path / "denied.sealed"
    res = run_python_cli("seal", "--server", world.url, "--key", world.denied_key_id, "--in", str(files / "model.safetensors"), "--out", str(sealed), env={"KEYWARD_TOKEN": world.token})
    assert res.returncode == 0, res.stderr.decode()
    un = unseal_py(world, sealed, tmp_path / "denied.out")
    assert un.returncode == 1
    assert b"ERR_POLICY_DENIED" in un.stderr
    assert not (tmp_path / "denied.out").exists()


class TestRefusals:
    def test_existing_out_is_kept_without_force_and_replaced_with_it(self, world: World, files: Path, tmp_path: Path) -> None:
        out = tmp_path / "exists.bin"
        out.write_bytes(b"keep me")
        res = unseal_py(world, files / "model.py.sealed", out)
        assert res.returncode == 1
        assert b"keyward unseal: ERR_CLI_OUTPUT_EXISTS: " in res.stderr and b"--force" in res.stderr
        assert out.read_bytes() == b"keep me"
        forced = unseal_py(world, files / "model.py.sealed", out, "--force")
        assert forced.returncode == 0, forced.stderr.decode()
        assert out.read_bytes() == PLAINTEXT
        sealed = tmp_path / "exists.sealed"
        sealed.write_bytes(b"old")
        assert seal_py(world, files / "model.safetensors", sealed).returncode == 1
        assert sealed.read_bytes() == b"old"

    def test_key_naming_another_key_is_refused_before_any_release(self, world: World, files: Path, tmp_path: Path) -> None:
        res = unseal_py(world, files / "model.py.sealed", tmp_path / "x", "--key", world.denied_key_id)
        assert res.returncode == 1
        assert f"ERR_SEALED_KEY_ID_MISMATCH: {files / 'model.py.sealed'} was sealed under key {world.key_id}, not {world.denied_key_id}".encode() in res.stderr

    def test_a_server_that_is_down(self, world: World, files: Path, tmp_path: Path) -> None:
        down = f"http://127.0.0.1:{free_port()}"
        res = run_python_cli("unseal", "--server", down, "--in", str(files / "model.py.sealed"), "--out", str(tmp_path / "x"), "--evidence-cmd", world.evidence_cmd())
        assert res.returncode == 1
        assert f"keyward unseal: ERR_CLIENT_UNREACHABLE: cannot reach keyward at {down}".encode() in res.stderr
        se = run_python_cli("seal", "--server", down, "--key", world.key_id, "--in", str(files / "model.safetensors"), "--out", str(tmp_path / "y"), env={"KEYWARD_TOKEN": "t" * 30})
        assert se.returncode == 1
        assert b"ERR_CLIENT_UNREACHABLE" in se.stderr
        assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()

    def test_a_failing_evidence_command(self, world: World, files: Path, tmp_path: Path) -> None:
        res = unseal_py(world, files / "model.py.sealed", tmp_path / "x", evidence=f"{world.node} -e process.exit(3)")
        assert res.returncode == 1
        assert b"keyward unseal: ERR_AGENT_EVIDENCE_FAILED: The evidence command exited with status 3" in res.stderr

    def test_no_configfs_tsm_here(self, world: World, files: Path, tmp_path: Path) -> None:
        res = run_python_cli("unseal", "--server", world.url, "--in", str(files / "model.py.sealed"), "--out", str(tmp_path / "x"), "--tsm-root", str(tmp_path / "no-tsm"))
        assert res.returncode == 1
        assert b"keyward unseal: ERR_AGENT_TSM_UNAVAILABLE: " in res.stderr


USAGE = [
    ("no command", []),
    ("an unknown command", ["frobnicate"]),
    ("no --server", ["unseal", "--in", "a", "--out", "b"]),
    ("an unknown flag", ["unseal", "--server", "http://127.0.0.1:1", "--in", "a", "--out", "b", "--bogus"]),
    ("an abbreviated flag", ["unseal", "--serv", "http://127.0.0.1:1", "--in", "a", "--out", "b"]),
    ("a bad server URL", ["unseal", "--server", "ftp://x", "--in", "a", "--out", "b"]),
    ("a bad timeout", ["unseal", "--server", "http://127.0.0.1:1", "--in", "a", "--out", "b", "--timeout", "0"]),
    ("a bad TEE key type", ["unseal", "--server", "http://127.0.0.1:1", "--in", "a", "--out", "b", "--tee-key", "rsa"]),
    ("--evidence-cmd with --tsm-root", ["unseal", "--server", "http://127.0.0.1:1", "--in", "a", "--out", "b", "--evidence-cmd", "x", "--tsm-root", "/tmp"]),
    ("seal without a token", ["seal", "--server", "http://127.0.0.1:1", "--key", "k", "--in", "a", "--out", "b"]),
    ("seal with a bad chunk size", ["seal", "--server", "http://127.0.0.1:1", "--token", "t", "--key", "k", "--in", "a", "--out", "b", "--chunk-size", "100"]),
    ("seal to stdout", ["seal", "--server", "http://127.0.0.1:1", "--token", "t", "--key", "k", "--in", "a", "--out", "-"]),
    ("the same --in and --out", ["seal", "--server", "http://127.0.0.1:1", "--token", "t", "--key", "k", "--in", "a", "--out", "./a"]),
]


@pytest.mark.parametrize(("name", "args"), USAGE, ids=[u[0] for u in USAGE])
def test_usage_errors_exit_2(name: str, args: list[str]) -> None:
    res = run_python_cli(*args, timeout=60)
    assert res.returncode == 2, res.stderr.decode()
    assert res.stdout == b""
    assert b"usage:" in res.stderr


def test_input_errors_exit_1(world: World, files: Path, tmp_path: Path) -> None:
    missing = run_python_cli("unseal", "--server", world.url, "--in", str(tmp_path / "nope"), "--out", str(tmp_path / "x"), "--evidence-cmd", "x")
    assert missing.returncode == 1
    assert b"keyward unseal: ERR_SEALED_INPUT_UNREADABLE: " in missing.stderr
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_bytes(b"")
    busy = run_python_cli("seal", "--server", world.url, "--key", world.key_id, "--in", str(files), "--out", str(tmp_path / "busy"), env={"KEYWARD_TOKEN": world.token})
    assert busy.returncode == 1
    assert b"keyward seal: ERR_CLI_OUTPUT_UNWRITABLE: " in busy.stderr
    unknown_key = run_python_cli("seal", "--server", world.url, "--key", "00000000-0000-4000-8000-000000000000", "--in", str(files / "model.safetensors"), "--out", str(tmp_path / "k.sealed"), env={"KEYWARD_TOKEN": world.token})
    assert unknown_key.returncode == 1
    assert b"keyward seal: ERR_KEY_NOT_FOUND: " in unknown_key.stderr
    assert not (tmp_path / "k.sealed").exists()


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("shards")
    for name, data in {"model-00001-of-00002.safetensors": os.urandom(9000), "model-00002-of-00002.safetensors": os.urandom(5000), "sub/config.json": b"{}", "empty": b""}.items():
        (d / "in" / name).parent.mkdir(parents=True, exist_ok=True)
        (d / "in" / name).write_bytes(data)
    return d


class TestDirectories:
    def same_tree(self, a: Path, b: Path) -> bool:
        files = lambda root: sorted((str(p.relative_to(root)), p.read_bytes()) for p in root.rglob("*") if p.is_file())  # noqa: E731
        return files(a) == files(b)

    def test_python_seals_a_directory_both_unseal_it(self, world: World, shards: Path) -> None:
        res = run_python_cli("seal", "--server", world.url, "--key", world.key_id, "--in", str(shards / "in"), "--out", str(shards / "py.sealed"), "--chunk-size", "4K", env={"KEYWARD_TOKEN": world.token})
        assert res.returncode == 0, res.stderr.decode()
        assert f"sealed 4 files (14002 bytes) from {shards / 'in'} into {shards / 'py.sealed'} under key {world.key_id} version 1; manifest header sha256 ".encode() in res.stdout
        py = unseal_py(world, shards / "py.sealed", shards / "py-py")
        assert py.returncode == 0, py.stderr.decode()
        assert self.same_tree(shards / "in", shards / "py-py")
        node = world.node_cli("unseal", "--server", world.url, "--in", str(shards / "py.sealed"), "--out", str(shards / "py-node"), "--simulate", "snp", "--data-dir", str(world.agent_dir))
        assert node.returncode == 0, node.stderr.decode()
        assert self.same_tree(shards / "in", shards / "py-node")
        assert unseal_py(world, shards / "py.sealed", "-").returncode == 2

    def test_node_seals_a_directory_python_unseals_it_and_refuses_a_missing_shard(self, world: World, shards: Path) -> None:
        res = world.node_cli("seal", "--server", world.url, "--key", world.key_id, "--in", str(shards / "in"), "--out", str(shards / "node.sealed"), env={"KEYWARD_TOKEN": world.token})
        assert res.returncode == 0, res.stderr.decode()
        out = unseal_py(world, shards / "node.sealed", shards / "node-py", "--key", world.key_id)
        assert out.returncode == 0, out.stderr.decode()
        assert self.same_tree(shards / "in", shards / "node-py")
        (shards / "node.sealed" / "empty.sealed").unlink()
        gone = unseal_py(world, shards / "node.sealed", shards / "gone")
        assert gone.returncode == 1 and b"keyward unseal: ERR_SEALED_DIRECTORY_MISMATCH: " in gone.stderr
        assert not (shards / "gone").exists()


def _sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize(("sig", "exit_code", "name"), [(signal.SIGINT, 130, "SIGINT"), (signal.SIGTERM, 143, "SIGTERM")])
def test_interrupted_during_the_evidence_command_stops_cleanly(world: World, files: Path, tmp_path: Path, sig: int, exit_code: int, name: str) -> None:
    marker = tmp_path / "started"
    slow = tmp_path / "slow.py"
    slow.write_text(f"import pathlib, time\npathlib.Path({str(marker)!r}).write_text('x')\ntime.sleep(60)\n")
    out = tmp_path / "out.bin"
    child = subprocess.Popen(
        [sys.executable, "-m", "keyward", "unseal", "--server", world.url, "--in", str(files / "model.py.sealed"), "--out", str(out), "--evidence-cmd", f"{sys.executable} {slow}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_env(),
        # As from a terminal: a shell without job control starts background jobs with SIGINT ignored, and
        # Python keeps an ignored SIGINT ignored, so CI run in the background would never see the Ctrl-C.
        preexec_fn=_sigint_default,
    )
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    child.send_signal(sig)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == exit_code, stderr.decode()
    assert f"interrupted by {name}; stopped cleanly".encode() in stderr
    assert not out.exists() and leftovers(tmp_path) == []
