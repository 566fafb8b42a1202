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


def test_transient_refusals_match_the_node_client() -> None:
    from keyward._http import is_transient_refusal

    def err(status: int, code: str | None, retry_after: float | None = None) -> ClientError:
        return ClientError(code or "ERR_CLIENT_HTTP_ERROR", "x", http_status=status, server_code=code, retry_after=retry_after)

    assert is_transient_refusal(err(429, "ERR_RATE_LIMITED"))
    assert is_transient_refusal(err(503, "ERR_DB_UNAVAILABLE"))
    assert is_transient_refusal(err(503, None))  # a proxy's 503
    assert not is_transient_refusal(err(503, "ERR_COLLATERAL_MISSING"))
    assert not is_transient_refusal(err(503, "ERR_CRL_STALE"))
    assert is_transient_refusal(err(503, "ERR_COLLATERAL_MISSING", retry_after=2.0))
    assert not is_transient_refusal(err(400, "ERR_REQUEST_INVALID"))
