"""keyward.Client against the live keyward (conftest.py): the release protocol with simulated evidence from
the Node simulator as an evidence command and from configfs-tsm (a fake kernel whose "firmware" is the
simulator), the one-shot route's fallback, data keys, the server's codes, and ``open_sealed`` /
``keyward.safetensors.load`` reading a sealed model in memory."""

from __future__ import annotations

import base64
import io
import json
import struct
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import BIN, SIMULATED_MEASUREMENT, World, keyward_error_of
from fake_tsm import FakeTsmKernel, cert_table

from keyward import Client, ClientError, CommandEvidenceProvider, ConfigfsTsmProvider, KeywardError, open_sealed, seal_file
from keyward.safetensors import SafetensorsError, load, load_stream, load_stream_with_info
from keyward.sealed import SealedReader


@pytest.fixture(scope="module")
def evidence(world: World) -> CommandEvidenceProvider:
    return CommandEvidenceProvider(world.evidence_cmd())


def server_offers_one_shot(world: World) -> bool:
    """Whether this keyward has POST /v1/release (an empty body is a 400 there, a 404 where the route is missing)."""
    request = urllib.request.Request(f"{world.url}/v1/release", data=b"{}", method="POST", headers={"content-type": "application/json"})
    try:
        urllib.request.urlopen(request, timeout=30).close()
    except urllib.error.HTTPError as err:
        return keyward_error_of(err) != "ERR_ROUTE_NOT_FOUND"
    return True


def test_release_key_uses_the_one_shot_route_or_falls_back_and_remembers(world: World, evidence: CommandEvidenceProvider) -> None:
    offered = server_offers_one_shot(world)
    client = Client(world.url)
    assert client.one_shot is None
    released = client.release_key(world.key_id, evidence)
    try:
        assert (released.key_id, released.version, len(released.plaintext)) == (world.key_id, 1, 32)
        assert released.evidence_source == "evidence-cmd"
        if offered:
            assert released.flow == "one-shot"
        else:
            assert released.flow == "attest+release" and released.release_id
            assert released.claims is not None and released.claims["cpu"]["anchor"]["source"] == "extra"
            assert released.claims["cpu"]["measurement"] == SIMULATED_MEASUREMENT
    finally:
        released.zero()
    assert client.one_shot is offered
    assert released.plaintext == bytearray(32)
    steps: list[str] = []
    again = client.release_key(world.key_id, evidence, tee_key="p384", on_step=lambda step, run: steps.append(step))
    assert steps == (["challenge", "evidence", "release", "decrypt"] if offered else ["challenge", "evidence", "attest", "release", "decrypt"])
    again.zero()


def test_one_shot_only_never_falls_back(world: World, evidence: CommandEvidenceProvider) -> None:
    client = Client(world.url, one_shot=True)
    if server_offers_one_shot(world):
        client.release_key(world.key_id, evidence).zero()
        return
    with pytest.raises(ClientError) as err:
        client.release_key(world.key_id, evidence)
    assert err.value.code == "ERR_ROUTE_NOT_FOUND" and err.value.http_status == 404


def test_the_three_calls_on_request(world: World, evidence: CommandEvidenceProvider) -> None:
    released = Client(world.url, one_shot=False).release_key(world.key_id, evidence)
    assert released.flow == "attest+release" and released.claims is not None and released.release_id
    released.zero()


def test_data_key_round_trip_through_release(world: World, evidence: CommandEvidenceProvider) -> None:
    owner = Client(world.url, token=world.token)
    data_key = owner.data_key(world.key_id)
    released = Client(world.url, one_shot=False).release_key(world.key_id, evidence, wrapped_data_key=data_key.wrapped)
    assert released.plaintext == data_key.plaintext
    data_key.zero()
    released.zero()


def test_server_codes_come_through(world: World, evidence: CommandEvidenceProvider) -> None:
    client = Client(world.url)
    unknown_nonce = base64.urlsafe_b64encode(bytes(32)).rstrip(b"=").decode()
    tee_key = {"kty": "OKP", "crv": "X25519", "x": "A" * 43}
    cases: dict[str, Any] = {
        "ERR_POLICY_DENIED": lambda: client.release_key(world.denied_key_id, evidence),
        "ERR_KEY_NOT_FOUND": lambda: client.release_key("00000000-0000-4000-8000-000000000000", evidence),
        "ERR_REQUEST_INVALID": lambda: client.attest(unknown_nonce, tee_key, []),
        "ERR_ATTEST_TOKEN_INVALID": lambda: client.release(world.key_id, "not-a-token"),
    }
    for expected, call in cases.items():
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.code == expected, (expected, err.value)
        assert err.value.http_status and err.value.request_id and err.value.server_code == expected


def test_data_keys_need_a_token_and_a_safe_transport(world: World) -> None:
    with pytest.raises(ClientError) as err:
        Client(world.url).data_key(world.key_id)
    assert err.value.code == "ERR_CLIENT_OPTIONS_INVALID"
    with pytest.raises(ClientError) as err:
        Client("http://keyward.example:8750", token="t" * 30).data_key("k")
    assert err.value.code == "ERR_CLIENT_OPTIONS_INVALID" and "plain http" in err.value.message
    with pytest.raises(ClientError) as err:
        Client(world.url, token="wrong-token-" + "x" * 20).data_key(world.key_id)
    assert err.value.code.startswith("ERR_AUTH_")
    for bad in ("ftp://x", "http://user:pw@host", "http://host/?q=1", "not a url"):
        with pytest.raises(ClientError) as err:
            Client(bad)
        assert err.value.code == "ERR_CLIENT_OPTIONS_INVALID", bad


def simulated_tsm(world: World, root: str) -> FakeTsmKernel:
    """configfs-tsm whose "firmware" is the simulator: the report for the written inblob, its certificates
    as the host's GUID table in auxblob (the report padded as the kernel's response buffer is)."""
    certs: dict[str, bytes] = {}

    def outblob(inblob: bytes, _level: int) -> bytes:
        res = subprocess.run(
            [world.node, str(BIN), "dev", "evidence", "--simulate", "snp", "--data-dir", str(world.agent_dir), inblob.hex()], capture_output=True, check=True, timeout=60
        )
        [item] = json.loads(res.stdout)
        vcek, ask, ark = (base64.b64decode(c) for c in item["certs"])
        certs.update(vcek=vcek, ask=ask, ark=ark)
        kernel.auxblob = cert_table(certs)
        return base64.b64decode(item["report"]) + bytes(0x1000 - 0x4A0)

    kernel = FakeTsmKernel(root, "sev_guest", outblob, b"")
    return kernel


def test_configfs_tsm_evidence_is_accepted_by_the_server(world: World) -> None:
    root = "/sys/kernel/config/tsm/report"
    released = Client(world.url).release_key(world.key_id, ConfigfsTsmProvider(root, fs=simulated_tsm(world, root)))
    assert len(released.plaintext) == 32 and released.evidence_source == "configfs-tsm"
    released.zero()


def safetensors_bytes(tensors: dict[str, np.ndarray[Any, Any]], dtypes: dict[str, str]) -> bytes:
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    data = b""
    for name, array in tensors.items():
        raw = np.ascontiguousarray(array).tobytes()
        header[name] = {"dtype": dtypes[name], "shape": list(array.shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


TENSORS = {
    "embed.weight": np.arange(4096 * 3, dtype="<f4").reshape(4096, 3),
    "layer.0.bias": np.linspace(-1, 1, 1000, dtype="<f2"),
    "layer.0.mask": np.array([[True, False], [False, True]]),
    "step": np.array(7, dtype="<i8"),
    "empty": np.zeros((0, 5), dtype="<f4"),
}
DTYPES = {"embed.weight": "F32", "layer.0.bias": "F16", "layer.0.mask": "BOOL", "step": "I64", "empty": "F32"}


def test_open_sealed_and_safetensors_load_in_memory(world: World, evidence: CommandEvidenceProvider, tmp_path: Path) -> None:
    (tmp_path / "model.safetensors").write_bytes(safetensors_bytes(TENSORS, DTYPES))
    owner = Client(world.url, token=world.token)
    data_key = owner.data_key(world.key_id)
    seal_file(tmp_path / "model.safetensors", tmp_path / "model.sealed", data_key.plaintext, key_id=data_key.key_id, key_version=data_key.version, wrapped_data_key=data_key.wrapped, chunk_size=4096)
    data_key.zero()
    before = sorted(p.name for p in tmp_path.iterdir())
    client = Client(world.url)
    with open_sealed(tmp_path / "model.sealed", client, evidence=evidence, key_id=world.key_id) as reader:
        assert reader.read() == (tmp_path / "model.safetensors").read_bytes()
    loaded = load(tmp_path / "model.sealed", client, evidence=evidence)
    assert sorted(loaded) == sorted(TENSORS)
    for name, array in TENSORS.items():
        assert loaded[name].dtype == array.dtype and loaded[name].shape == array.shape
        assert np.array_equal(loaded[name], array)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    with pytest.raises(KeywardError) as err:
        open_sealed(tmp_path / "model.sealed", client, evidence=evidence, key_id=world.denied_key_id)
    assert err.value.code == "ERR_SEALED_KEY_ID_MISMATCH"


def test_safetensors_refusals() -> None:
    good = safetensors_bytes({"a": np.ones(4, dtype="<f4")}, {"a": "F32"})
    assert np.array_equal(load_stream(io.BytesIO(good))["a"], np.ones(4, dtype="<f4"))
    text = json.dumps({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 12]}}).encode()
    bad = {
        "trailing bytes": good + b"\0",
        "a short file": good[:-1],
        "offsets that do not match the shape": struct.pack("<Q", len(text)) + text + bytes(16),
        "an unknown dtype": good.replace(b'"F32"', b'"F33"'),
        "a header that is not JSON": struct.pack("<Q", 3) + b"{{{",
        "a huge header length": struct.pack("<Q", 2**40),
    }
    for name, data in bad.items():
        with pytest.raises(SafetensorsError):
            load_stream(io.BytesIO(data))
        assert name


def test_bf16_comes_back_as_its_bit_patterns_with_its_dtype_named() -> None:
    bits = np.array([0x3F80, 0xC000], dtype="<u2")
    loaded = load_stream_with_info(io.BytesIO(safetensors_bytes({"w": bits}, {"w": "BF16"})))
    assert loaded.arrays["w"].dtype == np.dtype("<u2") and loaded.arrays["w"].tolist() == [0x3F80, 0xC000]
    assert loaded.dtypes == {"w": "BF16"} and loaded.metadata == {"format": "pt"}


def test_a_tampered_sealed_model_yields_no_arrays(tmp_path: Path) -> None:
    key = bytes(range(32))
    (tmp_path / "m.safetensors").write_bytes(safetensors_bytes(TENSORS, DTYPES))
    seal_file(tmp_path / "m.safetensors", tmp_path / "m.sealed", key, key_id="k", key_version=1, wrapped_data_key="w", chunk_size=4096)
    data = bytearray((tmp_path / "m.sealed").read_bytes())
    data[-100] ^= 1
    with pytest.raises(KeywardError) as err:
        load_stream(SealedReader(io.BytesIO(bytes(data)), key))
    assert err.value.code == "ERR_SEALED_CHUNK_AUTH_FAILED"
