"""The Python client of keyward (docs/design.md "Release protocol"): challenge, attest, release, the one-shot
``POST /v1/release`` when the server offers it, and data keys, with typed errors and safe retries; and
``release_key``, the whole protocol from inside a TEE with an ephemeral key that never leaves memory."""

from __future__ import annotations

import base64
import binascii
import re
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._http import HttpSettings, call_json, is_insecure_remote, is_transient_refusal, normalize_base_url, retry_delay
from .errors import ClientError, KeywardError
from .evidence import EvidenceProvider, WireEvidence
from .jwe import TEE_KEY_TYPES, TeeKeyPair, TeeKeyType, release_binding

__all__ = ["Attestation", "Challenge", "Client", "DataKey", "KeyRequest", "ReleasedJwe", "ReleasedKey"]

_NONCE = re.compile(r"[A-Za-z0-9_-]{43,171}")
#: Codes after which a new run of the protocol (fresh challenge, new key pair) may succeed.
_NEW_RUN_CODES = {"ERR_ATTEST_NONCE_EXPIRED", "ERR_AGENT_TSM_BUSY", "ERR_CLIENT_TIMEOUT", "ERR_CLIENT_CONNECTION_FAILED", "ERR_CLIENT_UNREACHABLE"}


@dataclass(frozen=True)
class Challenge:
    nonce: str
    expires_at: str


@dataclass(frozen=True)
class Attestation:
    """keyward's attestation token and the normalized claims it carries."""

    token: str
    expires_at: str
    claims: dict[str, Any]


@dataclass(frozen=True)
class ReleasedJwe:
    key_id: str
    version: int
    jwe: str
    release_id: str | None = None


@dataclass(frozen=True)
class KeyRequest:
    """One key of a one-shot release: the key itself, a version of it, or a data key wrapped under it."""

    key_id: str
    version: int | None = None
    wrapped_data_key: str | None = None

    def wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"keyId": self.key_id}
        if self.version is not None:
            out["version"] = self.version
        if self.wrapped_data_key is not None:
            out["wrappedDataKey"] = self.wrapped_data_key
        return out


@dataclass
class DataKey:
    """A fresh data key: zero ``plaintext`` (``zero()``) after use; store only ``wrapped``."""

    key_id: str
    version: int
    plaintext: bytearray = field(repr=False)
    wrapped: str

    def zero(self) -> None:
        self.plaintext[:] = bytes(len(self.plaintext))


@dataclass
class ReleasedKey:
    """The released secret (key material or data key) in plaintext, in memory. Call ``zero()`` when done."""

    key_id: str
    version: int
    plaintext: bytearray = field(repr=False)
    release_id: str | None
    #: The claims keyward verified (three-call flow only; e.g. cpu.anchor.source == "extra" when simulated).
    claims: dict[str, Any] | None
    evidence_source: str
    #: "one-shot" (POST /v1/release) or "attest+release".
    flow: str

    def zero(self) -> None:
        self.plaintext[:] = bytes(len(self.plaintext))


def _invalid_answer(operation: str, what: str) -> ClientError:
    return ClientError("ERR_CLIENT_RESPONSE_INVALID", f"the answer to {operation} {what}", operation=operation)


def _str(body: dict[str, Any], name: str, operation: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or value == "":
        raise _invalid_answer(operation, f'has no "{name}"')
    return value


def _positive_int(body: dict[str, Any], name: str, operation: str) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _invalid_answer(operation, f'has no valid "{name}"')
    return value


def _check_count(name: str, value: float, minimum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ClientError("ERR_CLIENT_OPTIONS_INVALID", f"{name} must be a number ≥ {minimum:g}")
    return value


def _key_path(key_id: str, action: str) -> str:
    return f"/v1/keys/{urllib.parse.quote(key_id, safe='')}/{action}"


def _route_missing(err: ClientError) -> bool:
    """The server has no one-shot route (an older keyward): fall back to attest + release."""
    return err.code == "ERR_ROUTE_NOT_FOUND" or (err.code == "ERR_CLIENT_HTTP_ERROR" and err.http_status in (404, 405))


def _worth_new_run(err: BaseException) -> bool:
    if not isinstance(err, KeywardError):
        return False
    if err.code in _NEW_RUN_CODES:
        return True
    return isinstance(err, ClientError) and is_transient_refusal(err)


class Client:
    """A client of one keyward server. Methods raise ``ClientError`` (the server's code, or ``ERR_CLIENT_*``);
    ``release_key`` also lets evidence provider errors (``ERR_AGENT_*``) through.

    ``one_shot``: None (default) uses ``POST /v1/release`` while the server offers it and falls back to
    challenge → attest → release on a 404 of that route (remembered); False always uses the three calls;
    True never falls back.
    """

    def __init__(
        self,
        server: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.25,
        max_backoff: float = 8.0,
        max_retry_after: float = 30.0,
        max_response_bytes: int = 8 * 1024 * 1024,
        allow_insecure_http: bool = False,
        one_shot: bool | None = None,
        user_agent: str = "keyward-python/0.1",
    ) -> None:
        self.base_url = normalize_base_url(server)
        self._http = HttpSettings(
            base_url=self.base_url,
            timeout=_check_count("timeout", timeout, 0.001),
            retries=int(_check_count("retries", retries, 0)),
            backoff=_check_count("backoff", backoff, 0),
            max_backoff=_check_count("max_backoff", max_backoff, 0),
            max_retry_after=_check_count("max_retry_after", max_retry_after, 0),
            max_response_bytes=int(_check_count("max_response_bytes", max_response_bytes, 1024)),
            user_agent=user_agent,
        )
        self.__token = token
        self.allow_insecure_http = allow_insecure_http
        #: Whether POST /v1/release is used: None until the server has answered it once.
        self.one_shot = one_shot

    def __repr__(self) -> str:
        return f"Client({self.base_url!r})"

    def challenge(self) -> Challenge:
        """``POST /v1/challenge`` — a fresh nonce. Retried on any transient failure (an unused nonce just expires)."""
        operation = "POST /v1/challenge"
        body = call_json(self._http, "POST", "/v1/challenge", retry="safe")
        nonce = _str(body, "nonce", operation)
        if not _NONCE.fullmatch(nonce):
            raise _invalid_answer(operation, "has a nonce that is not 32 to 128 bytes of base64url")
        return Challenge(nonce, _str(body, "expiresAt", operation))

    def attest(self, nonce: str, tee_public_key: dict[str, str], evidence: Sequence[WireEvidence]) -> Attestation:
        """``POST /v1/attest`` — never repeated once the request may have reached the server (the server
        consumes the nonce whatever the verdict); only a connection that was never made is retried."""
        operation = "POST /v1/attest"
        body = call_json(
            self._http, "POST", "/v1/attest", body={"nonce": nonce, "teePublicKey": tee_public_key, "evidence": list(evidence)}, retry="unsent-only"
        )
        claims = body.get("claims")
        if not isinstance(claims, dict) or not isinstance(claims.get("gpus"), list):
            raise _invalid_answer(operation, "has no claims")
        return Attestation(_str(body, "token", operation), _str(body, "expiresAt", operation), claims)

    def release(self, key_id: str, token: str, *, version: int | None = None, wrapped_data_key: str | None = None) -> ReleasedJwe:
        """``POST /v1/keys/{key_id}/release`` with the attestation token — the key (or, with
        ``wrapped_data_key``, that data key) as a JWE to the attested TEE key. Retried only when the server
        did not act (429, 503, no connection)."""
        operation = "POST /v1/keys/{id}/release"
        body: dict[str, Any] = {}
        if version is not None:
            body["version"] = int(_check_count("version", version, 1))
        if wrapped_data_key is not None:
            body["wrappedDataKey"] = wrapped_data_key
        answer = call_json(self._http, "POST", _key_path(key_id, "release"), body=body, bearer=token, retry="not-processed")
        return ReleasedJwe(
            _str(answer, "keyId", operation), _positive_int(answer, "version", operation), _str(answer, "jwe", operation), _str(answer, "releaseId", operation)
        )

    def release_one_shot(self, nonce: str, tee_public_key: dict[str, str], evidence: Sequence[WireEvidence], keys: Sequence[KeyRequest]) -> list[ReleasedJwe]:
        """``POST /v1/release`` — evidence and every key in one call, all released or none. Like attest, it
        consumes the nonce: only a connection that was never made is retried."""
        operation = "POST /v1/release"
        if not keys:
            raise ClientError("ERR_CLIENT_OPTIONS_INVALID", "a one-shot release needs at least one key")
        answer = call_json(
            self._http,
            "POST",
            "/v1/release",
            body={"nonce": nonce, "teePublicKey": tee_public_key, "evidence": list(evidence), "keys": [k.wire() for k in keys]},
            retry="unsent-only",
        )
        releases = answer.get("releases")
        if not isinstance(releases, list) or len(releases) != len(keys) or not all(isinstance(r, dict) for r in releases):
            raise _invalid_answer(operation, "does not hold one release per key asked for")
        out = []
        for release in releases:
            rid = release.get("releaseId")
            out.append(
                ReleasedJwe(
                    _str(release, "keyId", operation),
                    _positive_int(release, "version", operation),
                    _str(release, "jwe", operation),
                    rid if isinstance(rid, str) else None,
                )
            )
        return out

    def data_key(self, key_id: str) -> DataKey:
        """``POST /v1/keys/{key_id}/datakey`` (API token with scope keys:datakey) — a fresh 32-byte data key
        in plaintext and wrapped. Refused over plain http to another machine unless ``allow_insecure_http``."""
        operation = "POST /v1/keys/{id}/datakey"
        token = self._require_token(operation)
        answer = call_json(self._http, "POST", _key_path(key_id, "datakey"), bearer=token, retry="not-processed")
        try:
            plaintext = bytearray(base64.b64decode(_str(answer, "plaintext", operation), validate=True))
        except (binascii.Error, ValueError):
            plaintext = bytearray()
        if len(plaintext) != 32:
            raise _invalid_answer(operation, "has a plaintext that is not 32 bytes of base64")
        return DataKey(_str(answer, "keyId", operation), _positive_int(answer, "version", operation), plaintext, _str(answer, "wrapped", operation))

    def _require_token(self, operation: str) -> str:
        if not self.__token:
            raise ClientError("ERR_CLIENT_OPTIONS_INVALID", f"{operation} needs an API token (the client's token option)", operation=operation)
        if not self.allow_insecure_http and is_insecure_remote(self.base_url):
            raise ClientError(
                "ERR_CLIENT_OPTIONS_INVALID",
                f"refusing to send an API token and receive a data key over plain http to {self.base_url}; use https (or allow_insecure_http)",
                operation=operation,
            )
        return self.__token

    def release_key(
        self,
        key_id: str,
        evidence: EvidenceProvider,
        *,
        wrapped_data_key: str | None = None,
        version: int | None = None,
        tee_key: TeeKeyType = "x25519",
        attempts: int = 3,
        on_step: Callable[[str, int], None] | None = None,
    ) -> ReleasedKey:
        """The whole release protocol from inside a TEE: challenge → ephemeral key pair in memory → bind =
        SHA-512(nonce ‖ thumbprint) → evidence → one-shot release (or attest → release) → decrypt. A run
        that failed transiently after its challenge is repeated with a NEW challenge and key pair."""
        runs = int(_check_count("attempts", attempts, 1))
        if tee_key not in TEE_KEY_TYPES:
            raise ClientError("ERR_CLIENT_OPTIONS_INVALID", f"tee_key must be one of {', '.join(TEE_KEY_TYPES)}")
        request = KeyRequest(key_id, version, wrapped_data_key)
        run = 1
        while True:
            challenge = self._step(on_step, "challenge", run, self.challenge)
            try:
                return self._release_once(challenge, request, evidence, tee_key, run, on_step)
            except KeywardError as err:
                if run >= runs or not _worth_new_run(err):
                    raise
                wait = retry_delay(err if isinstance(err, ClientError) else None, run - 1, self._http)
                if wait is None:
                    raise
                time.sleep(wait)
                run += 1

    @staticmethod
    def _step(on_step: Callable[[str, int], None] | None, name: str, run: int, call: Callable[[], Any]) -> Any:
        if on_step is not None:
            on_step(name, run)
        return call()

    def _release_once(
        self, challenge: Challenge, request: KeyRequest, provider: EvidenceProvider, tee_key: TeeKeyType, run: int, on_step: Callable[[str, int], None] | None
    ) -> ReleasedKey:
        tee = TeeKeyPair(tee_key)
        bind = release_binding(challenge.nonce, tee.thumbprint)
        evidence = self._step(on_step, "evidence", run, lambda: provider.collect(bind))
        claims: dict[str, Any] | None = None
        released: ReleasedJwe | None = None
        flow = "one-shot"
        if self.one_shot is not False:
            try:
                released = self._step(on_step, "release", run, lambda: self.release_one_shot(challenge.nonce, tee.public_jwk, evidence, [request]))[0]
                self.one_shot = True
            except ClientError as err:
                # A missing route consumed nothing: the same nonce and evidence go to attest.
                if self.one_shot is True or not _route_missing(err):
                    raise
                self.one_shot = False
        if released is None:
            flow = "attest+release"
            attestation: Attestation = self._step(on_step, "attest", run, lambda: self.attest(challenge.nonce, tee.public_jwk, evidence))
            claims = attestation.claims
            released = self._step(
                on_step,
                "release",
                run,
                lambda: self.release(request.key_id, attestation.token, version=request.version, wrapped_data_key=request.wrapped_data_key),
            )
        plaintext = self._step(on_step, "decrypt", run, lambda: tee.decrypt(released.jwe))
        return ReleasedKey(released.key_id, released.version, plaintext, released.release_id, claims, provider.name, flow)
