"""The Python SDK's error table is the server's: every code of src/errors.ts with the same HTTP status."""

from __future__ import annotations

import re

import pytest
from conftest import REPO

from keyward.errors import ERROR_STATUS, ClientError, KeywardError, SealedFileError, is_known_code


def test_same_codes_and_statuses_as_src_errors_ts() -> None:
    source = (REPO / "src" / "errors.ts").read_text()
    table = source[source.index("export const ERROR_STATUS = {") : source.index("} as const satisfies")]
    server = {code: int(status) for code, status in re.findall(r"^\s*(ERR_[A-Z0-9_]+): (\d{3}),", table, re.M)}
    assert len(server) > 150
    assert server == ERROR_STATUS


def test_errors_carry_code_and_status() -> None:
    err = ClientError("ERR_POLICY_DENIED", "no", http_status=403, request_id="r1")
    assert (err.code, err.status, err.http_status, err.request_id) == ("ERR_POLICY_DENIED", 403, 403, "r1")
    assert str(err) == "ERR_POLICY_DENIED: no"
    assert isinstance(SealedFileError("ERR_SEALED_TRUNCATED", "cut"), KeywardError)
    assert KeywardError("ERR_AGENT_TSM_BUSY", "busy").retryable
    assert not KeywardError("ERR_SEALED_TRUNCATED", "cut").retryable
    assert is_known_code("ERR_CLIENT_TIMEOUT") and not is_known_code("ERR_NOPE") and not is_known_code(3)
    with pytest.raises(ValueError):
        KeywardError("ERR_NOT_A_CODE", "x")
