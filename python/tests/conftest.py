"""A live keyward for the tests: the Node server of this checkout (``node bin/keyward.js serve``, built by
``npm run build``) on PGlite in a temp data dir and a free port, trusting the simulator's development CA
(``keyward dev ca``) as extra anchors, with a model key bound to the README's simulated SNP policy
(policies/snp-production.yaml adapted as the walkthrough does). Workloads get their evidence from
``node bin/keyward.js dev evidence --simulate snp`` through ``--evidence-cmd``. Without node or a built
server the live tests skip with a one-line reason."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / "bin" / "keyward.js"
BOOTSTRAP_TOKEN = "python-tests-bootstrap-token-0123456789"
#: The simulator's default SNP MEASUREMENT (docs/simulator.md).
SIMULATED_MEASUREMENT = hashlib.sha384(b"keyward simulated SEV-SNP guest").hexdigest()
#: The measurement in policies/snp-production.yaml that the walkthrough replaces, and the one it drops.
_POLICY_MEASUREMENT = "27411a5e2e3e62f591c0bb3aea6f35f136d4bb3448749af1a23bf1c8e99c7ee9cfd6fa1b2a61d72b2d141c4474ffbdc1"
_POLICY_OLD_MEASUREMENT = "5de9928cb0fce8ff"


def node_or_skip() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the live tests run the Node keyward server")
    if not (REPO / "dist" / "cli" / "main.js").is_file():
        pytest.skip("the Node keyward server is not built: run `npm run build` in the repository root")
    return node


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without keyward's secrets or settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYWARD_")}
    env.update(extra)
    return env


def simulated_policy(name: str, measurement: str = SIMULATED_MEASUREMENT) -> str:
    """policies/snp-production.yaml with the README walkthrough's edits: the simulator's measurement, the
    development CA accepted instead of AMD's root (development only), its own name."""
    lines = []
    for line in (REPO / "policies" / "snp-production.yaml").read_text().splitlines():
        if _POLICY_OLD_MEASUREMENT in line:
            continue
        line = line.replace("name: snp-production", f"name: {name}").replace(_POLICY_MEASUREMENT, measurement)
        line = line.replace("name: vendor-root", "name: simulated-root").replace('cpu.anchor.source == "vendor"', 'cpu.anchor.source == "extra"')
        lines.append(line)
    return "\n".join(lines) + "\n"


@dataclass
class World:
    node: str
    root: Path
    agent_dir: Path
    dev_dir: Path
    url: str
    token: str
    key_id: str
    denied_key_id: str
    log: Path

    def api(self, method: str, path: str, body: Any = None, content_type: str = "application/json") -> Any:
        data = None
        headers = {"authorization": f"Bearer {self.token}"}
        if body is not None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            headers["content-type"] = content_type
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
        return json.loads(text) if text else None

    def create_key(self, name: str, measurement: str = SIMULATED_MEASUREMENT) -> str:
        key = self.api("POST", "/v1/keys", {"name": name, "kind": "model"})
        policy = self.api("POST", "/v1/policies", simulated_policy(f"{name}-policy", measurement), "application/yaml")
        self.api("PUT", f"/v1/keys/{key['id']}/policy", {"policyId": policy["id"]})
        return str(key["id"])

    def evidence_cmd(self, *extra: str) -> str:
        """The simulator as an evidence command (split at whitespace by the SDK; the binding is appended)."""
        return " ".join([self.node, str(BIN), "dev", "evidence", "--simulate", "snp", "--data-dir", str(self.agent_dir), *extra])

    def node_cli(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [self.node, str(BIN), *args], capture_output=True, timeout=120, env=clean_env(KEYWARD_LOG_LEVEL="warn", **(env or {}))
        )


def run_python_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    """``python -m keyward ARGS`` in a child process, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "keyward", *args], capture_output=True, timeout=timeout, env=clean_env(**(env or {})))


def _start_server(node: str, root: Path, dev_dir: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    log = root / "server.log"
    env = clean_env(
        KEYWARD_DATA_DIR=str(root / "server"),
        KEYWARD_PORT=str(port),
        KEYWARD_BOOTSTRAP_TOKEN=BOOTSTRAP_TOKEN,
        KEYWARD_EXTRA_ANCHORS=str(dev_dir / "anchors"),
        KEYWARD_COLLATERAL_DIR=str(dev_dir / "collateral"),
        KEYWARD_RATE_LIMIT="0",
        KEYWARD_LOG_LEVEL="info",
    )
    with open(log, "wb") as out:
        server = subprocess.Popen([node, str(BIN), "serve"], stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if b"keyward listening" in log.read_bytes():
            return server, f"http://127.0.0.1:{port}", log
        if server.poll() is not None:
            break
        time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"keyward serve did not start:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    node = node_or_skip()
    root = tmp_path_factory.mktemp("keyward-world")
    agent_dir, dev_dir = root / "agent", root / "dev"
    ca = subprocess.run(
        [node, str(BIN), "dev", "ca", "--out", str(dev_dir), "--data-dir", str(agent_dir)],
        capture_output=True,
        timeout=300,
        env=clean_env(KEYWARD_LOG_LEVEL="warn"),
    )
    if ca.returncode != 0:
        raise RuntimeError(f"keyward dev ca failed: {ca.stderr.decode()}")
    server, url, log = _start_server(node, root, dev_dir)
    try:
        w = World(node, root, agent_dir, dev_dir, url, BOOTSTRAP_TOKEN, "", "", log)
        w.key_id = w.create_key("py-model")
        w.denied_key_id = w.create_key("py-denied", "e5" * 48)
        yield w
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def keyward_error_of(err: urllib.error.HTTPError) -> str:
    return str(json.loads(err.read().decode()).get("code"))
