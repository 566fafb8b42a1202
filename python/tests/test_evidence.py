"""Evidence providers: configfs-tsm against a fake kernel (the algorithm and codes of docs/simulator.md),
the evidence command and the GPU command (argv without a shell, the binding or nonce as last argument,
output checks, failures and timeouts with their codes)."""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import os
import sys
from pathlib import Path

import pytest
from fake_tsm import FakeTsmKernel, cert_table

from keyward.errors import EvidenceProviderError
from keyward.evidence import CommandEvidenceProvider, ConfigfsTsmProvider, GpuCommandProvider, compose_providers, split_command_line

ROOT = "/sys/kernel/config/tsm/report"
BIND = hashlib.sha512(b"bind").digest()
DER = {"vcek": b"\x30\x03\x02\x01\x01", "ask": b"\x30\x03\x02\x01\x02", "ark": b"\x30\x03\x02\x01\x03"}


def snp_report(bind: bytes, _level: int = 0) -> bytes:
    report = bytearray(0x4A0)
    report[0x50 : 0x50 + 64] = bind
    return bytes(report)


def code(fn: object) -> str:
    with pytest.raises(EvidenceProviderError) as err:
        fn()  # type: ignore[operator]
    return err.value.code


class TestConfigfsTsm:
    def test_snp_report_and_certificates(self) -> None:
        kernel = FakeTsmKernel(ROOT, "sev_guest", lambda b, _: snp_report(b) + bytes(3000), cert_table(DER))
        [item] = ConfigfsTsmProvider(ROOT, fs=kernel).collect(BIND)
        assert item["type"] == "snp"
        assert base64.b64decode(item["report"]) == snp_report(BIND)
        assert [base64.b64decode(c) for c in item["certs"]] == [DER["vcek"], DER["ask"], DER["ark"]]
        assert kernel.entries == {}
        assert [line.split()[0] for line in kernel.log] == ["mkdir", "rmdir"] and kernel.log[0].split()[1].startswith("keyward-")

    def test_tdx_quote_and_privilege_level(self) -> None:
        kernel = FakeTsmKernel(ROOT, "tdx_guest", lambda b, level: b"QUOTE" + bytes([level]) + b)
        [item] = ConfigfsTsmProvider(ROOT, fs=kernel, privilege_level=2).collect(BIND)
        assert item == {"type": "tdx", "quote": base64.b64encode(b"QUOTE\x02" + BIND).decode()}
        assert [w[0] for w in kernel.writes] == ["privlevel", "inblob"]

    def test_retries_when_the_entry_changed_under_it_then_busy(self) -> None:
        kernel = FakeTsmKernel(ROOT, "sev_guest", snp_report)
        kernel.interfere, kernel.busy_reads = 1, 1
        assert ConfigfsTsmProvider(ROOT, fs=kernel).collect(BIND)[0]["type"] == "snp"
        assert len([line for line in kernel.log if line.startswith("mkdir")]) == 3
        kernel.interfere = 3
        assert code(lambda: ConfigfsTsmProvider(ROOT, fs=kernel).collect(BIND)) == "ERR_AGENT_TSM_BUSY"
        assert kernel.entries == {}

    @pytest.mark.parametrize(("errno_", "expected"), [(errno.ENOENT, "ERR_AGENT_TSM_UNAVAILABLE"), (errno.EACCES, "ERR_AGENT_TSM_UNAVAILABLE"), (errno.ENXIO, "ERR_AGENT_TSM_UNAVAILABLE"), (errno.EIO, "ERR_AGENT_EVIDENCE_FAILED")])
    def test_mkdir_failures(self, errno_: int, expected: str) -> None:
        kernel = FakeTsmKernel(ROOT, "sev_guest", snp_report)
        kernel.mkdir_errno = errno_
        assert code(lambda: ConfigfsTsmProvider(ROOT, fs=kernel).collect(BIND)) == expected

    def test_refusals(self) -> None:
        cases = {
            "an unknown provider": FakeTsmKernel(ROOT, "arm_cca_guest", snp_report),
            "a short SNP report": FakeTsmKernel(ROOT, "sev_guest", lambda b, _: b"short"),
            "trailing bytes after the report": FakeTsmKernel(ROOT, "sev_guest", lambda b, _: snp_report(b) + b"\x01"),
            "an empty outblob": FakeTsmKernel(ROOT, "tdx_guest", lambda b, _: b""),
            "a bad certificate table": FakeTsmKernel(ROOT, "sev_guest", snp_report, b"\x01" * 30),
        }
        for name, kernel in cases.items():
            assert code(lambda k=kernel: ConfigfsTsmProvider(ROOT, fs=k).collect(BIND)) == "ERR_AGENT_EVIDENCE_FAILED", name
            assert kernel.entries == {}, name
        refusing = FakeTsmKernel(ROOT, "sev_guest", snp_report)
        refusing.inblob_errno = errno.EINVAL
        assert code(lambda: ConfigfsTsmProvider(ROOT, fs=refusing).collect(BIND)) == "ERR_AGENT_EVIDENCE_FAILED"

    def test_the_real_default_path_is_unavailable_here(self, tmp_path: Path) -> None:
        assert code(lambda: ConfigfsTsmProvider(str(tmp_path / "none")).collect(BIND)) == "ERR_AGENT_TSM_UNAVAILABLE"

    def test_options(self) -> None:
        assert code(lambda: ConfigfsTsmProvider(ROOT, attempts=0)) == "ERR_AGENT_OPTIONS_INVALID"
        assert code(lambda: ConfigfsTsmProvider(ROOT, privilege_level=4)) == "ERR_AGENT_OPTIONS_INVALID"
        assert code(lambda: ConfigfsTsmProvider(ROOT).collect(b"short")) == "ERR_AGENT_OPTIONS_INVALID"


def script(tmp_path: Path, body: str) -> str:
    """A Python script as an evidence command (argv: the interpreter and the file; no shell)."""
    path = tmp_path / "cmd.py"
    path.write_text("import json, os, sys\n" + body)
    return f"{sys.executable} {path}"


class TestEvidenceCommand:
    def test_binding_as_last_argument_and_in_the_environment_without_secrets(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("KEYWARD_TOKEN", "secret")
        cmd = script(
            tmp_path,
            "bind = bytes.fromhex(sys.argv[-1]); report = bytearray(0x4A0); report[0x50:0x90] = bind\n"
            "import base64\n"
            "assert os.environ['KEYWARD_BIND'] == sys.argv[-1] and 'KEYWARD_TOKEN' not in os.environ and sys.argv[1] == 'extra'\n"
            "print(json.dumps([{'type': 'snp', 'report': base64.b64encode(bytes(report)).decode(), 'certs': []}]))\n",
        )
        [item] = CommandEvidenceProvider(cmd + " extra").collect(BIND)
        assert item["type"] == "snp"

    @pytest.mark.parametrize(
        "output",
        ["not json", "{}", "[]", '[{"type": "unknown"}]', '[{"type": "snp", "report": "AAAA", "certs": []}]', "[" + ",".join(['{"type":"nitro","document":"AA"}'] * 34) + "]"],
        ids=["not JSON", "an object", "empty", "an unknown type", "another binding", "too many items"],
    )
    def test_invalid_output(self, tmp_path: Path, output: str) -> None:
        cmd = script(tmp_path, f"print({output!r})\n")
        assert code(lambda: CommandEvidenceProvider(cmd).collect(BIND)) == "ERR_AGENT_EVIDENCE_FAILED"

    def test_failure_timeout_and_start_errors(self, tmp_path: Path) -> None:
        failing = script(tmp_path, "sys.stderr.write('no TEE here'); sys.exit(4)\n")
        with pytest.raises(EvidenceProviderError) as err:
            CommandEvidenceProvider(failing).collect(BIND)
        assert err.value.code == "ERR_AGENT_EVIDENCE_FAILED" and "exited with status 4: no TEE here" in err.value.message
        slow = script(tmp_path, "import time; time.sleep(30)\n")
        with pytest.raises(EvidenceProviderError) as err:
            CommandEvidenceProvider(slow, timeout=0.5).collect(BIND)
        assert "did not finish within 0.5 s" in err.value.message
        assert code(lambda: CommandEvidenceProvider(str(tmp_path / "missing")).collect(BIND)) == "ERR_AGENT_EVIDENCE_FAILED"
        assert code(lambda: CommandEvidenceProvider("   ")) == "ERR_AGENT_OPTIONS_INVALID"

    def test_no_shell(self) -> None:
        assert split_command_line("  a  'b c'  $HOME ; d ") == ["a", "'b", "c'", "$HOME", ";", "d"]


class TestGpuCommand:
    def gpu_script(self, tmp_path: Path, nonce_expr: str = "bytes.fromhex(sys.argv[-1])") -> str:
        return script(
            tmp_path,
            "import base64\n"
            f"nonce = {nonce_expr}\n"
            "assert os.environ['KEYWARD_GPU_NONCE'] == sys.argv[-1]\n"
            "report = bytes([0x11, 0xE0, 0, 0]) + nonce + b'rest'\n"
            "print(json.dumps([{'report': base64.b64encode(report).decode(), 'certChain': '-----BEGIN CERTIFICATE-----\\nMA==\\n-----END CERTIFICATE-----\\n'}] * 2))\n",
        )

    def test_reports_bound_to_the_nonce(self, tmp_path: Path) -> None:
        items = GpuCommandProvider(self.gpu_script(tmp_path)).collect(BIND)
        assert [i["type"] for i in items] == ["nvidia-gpu", "nvidia-gpu"]
        assert base64.b64decode(items[0]["report"])[4:36] == BIND[:32]

    def test_a_wrong_nonce_and_failures(self, tmp_path: Path) -> None:
        assert code(lambda: GpuCommandProvider(self.gpu_script(tmp_path, "bytes(32)")).collect(BIND)) == "ERR_AGENT_GPU_CMD_OUTPUT_INVALID"
        assert code(lambda: GpuCommandProvider(script(tmp_path, "sys.exit(1)\n")).collect(BIND)) == "ERR_AGENT_GPU_CMD_FAILED"
        assert code(lambda: GpuCommandProvider(script(tmp_path, "import time; time.sleep(30)\n"), timeout=0.3).collect(BIND)) == "ERR_AGENT_GPU_CMD_TIMEOUT"

    def test_composed_after_the_cpu(self, tmp_path: Path) -> None:
        kernel = FakeTsmKernel(ROOT, "tdx_guest", lambda b, _: b"Q" + b)
        provider = compose_providers([ConfigfsTsmProvider(ROOT, fs=kernel), GpuCommandProvider(self.gpu_script(tmp_path))])
        assert provider.name == "configfs-tsm+gpu-cmd"
        assert [i["type"] for i in provider.collect(BIND)] == ["tdx", "nvidia-gpu", "nvidia-gpu"]
        assert code(lambda: compose_providers([])) == "ERR_AGENT_OPTIONS_INVALID"


def test_environment_of_commands_drops_keyward_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    from keyward.evidence import command_environment

    env = command_environment({"PATH": "/bin", "KEYWARD_TOKEN": "t", "KEYWARD_BOOTSTRAP_TOKEN": "b", "KEYWARD_DATA_DIR": "d"})
    assert env == {"PATH": "/bin", "KEYWARD_DATA_DIR": "d"}
    assert os.environ is not env and json.dumps(env)


@pytest.mark.parametrize("tee", ["snp", "tdx"])
def test_the_binding_check_on_real_simulated_evidence(tee: str, tmp_path: Path) -> None:
    """The simulator's SNP report and TDX v4 quote carry the binding where the provider looks for it."""
    import subprocess

    from conftest import BIN, node_or_skip

    node = node_or_skip()
    res = subprocess.run([node, str(BIN), "dev", "evidence", "--simulate", tee, "--data-dir", str(tmp_path / "ca"), BIND.hex()], capture_output=True, check=True, timeout=120)
    (tmp_path / "evidence.json").write_bytes(res.stdout)
    fixed = script(tmp_path, f"sys.stdout.write(open({str(tmp_path / 'evidence.json')!r}).read())\n")
    assert CommandEvidenceProvider(fixed).collect(BIND)[0]["type"] == tee
    with pytest.raises(EvidenceProviderError) as err:
        CommandEvidenceProvider(fixed).collect(hashlib.sha512(b"another").digest())
    assert err.value.code == "ERR_AGENT_EVIDENCE_FAILED" and "REPORT_DATA is not the binding" in err.value.message
