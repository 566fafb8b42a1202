"""The client's HTTP layer (stdlib http.client): base URL checks, one JSON request with a timeout and a capped
body, problem+json → ClientError, and retries with backoff and jitter only where repeating is safe (the
server consumes a nonce on every attempt that reaches it: docs/design.md "Release protocol")."""

from __future__ import annotations

import email.utils
import errno
import http.client
import json
import random
import re
import socket
import ssl
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Literal

from .errors import ClientError, is_known_code

#: When a call may be repeated: ``safe`` after any transient failure (challenge); ``not-processed`` only
#: when the server provably did not act (nothing sent, 429, 503: release, datakey); ``unsent-only`` only
#: when nothing was sent (attest, one-shot release: the nonce is consumed by any attempt that arrives).
RetryClass = Literal["safe", "not-processed", "unsent-only"]

_CONNECT_ERRNOS = {errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class HttpSettings:
    base_url: str
    timeout: float
    retries: int
    backoff: float
    max_backoff: float
    max_retry_after: float
    max_response_bytes: int
    user_agent: str


def _options_error(message: str) -> ClientError:
    return ClientError("ERR_CLIENT_OPTIONS_INVALID", message)


def normalize_base_url(text: str) -> str:
    """``http(s)://host[:port][/prefix]`` without trailing slashes; credentials, query or fragment are refused."""
    try:
        url = urllib.parse.urlsplit(text.strip())
        url.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise _options_error(f'the server URL "{text[:200]}" is not a URL; give e.g. http://127.0.0.1:8750') from None
    if url.scheme not in ("http", "https") or not url.hostname:
        raise _options_error("the server URL must start with http:// or https://")
    if url.username is not None or url.password is not None:
        raise _options_error("the server URL must not carry credentials; pass a token instead")
    if url.query or url.fragment:
        raise _options_error("the server URL must not have a query or fragment")
    return f"{url.scheme}://{url.netloc}{url.path.rstrip('/')}"


def is_insecure_remote(base_url: str) -> bool:
    """True for http:// to anything but this machine (a bearer token or a data key would cross in clear)."""
    url = urllib.parse.urlsplit(base_url)
    if url.scheme == "https":
        return False
    host = url.hostname or ""
    return not (host in ("localhost", "::1") or re.fullmatch(r"127\.\d+\.\d+\.\d+", host) is not None)


def printable(text: str, limit: int = 400) -> str:
    """Server-sent text with control characters replaced before it reaches a terminal."""
    return _CONTROL.sub("?", text)[:limit]


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds: delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if value is None:
        return None
    text = value.strip()
    if re.fullmatch(r"\d{1,9}", text):
        return float(text)
    try:
        at = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, at.timestamp() - time.time())


class _Unsent(ClientError):
    """A connect-phase failure worth another try (refused, unreachable): nothing was sent."""


def _connect_error(err: BaseException, operation: str, where: str) -> ClientError:
    if isinstance(err, ssl.SSLError | ssl.CertificateError):
        return ClientError("ERR_CLIENT_UNREACHABLE", f"cannot reach keyward at {where}: TLS failed ({printable(str(err), 120)})", operation=operation)
    if isinstance(err, socket.gaierror):
        return ClientError("ERR_CLIENT_UNREACHABLE", f"cannot reach keyward at {where}: host not found", operation=operation)
    if isinstance(err, TimeoutError):
        return _Unsent("ERR_CLIENT_UNREACHABLE", f"cannot reach keyward at {where}: connection timed out", operation=operation)
    code = getattr(err, "errno", None)
    if code == errno.ECONNREFUSED:
        why = "connection refused (is keyward running there?)"
    else:
        why = errno.errorcode.get(code, "error") if isinstance(code, int) else "error"
    cls = _Unsent if code in _CONNECT_ERRNOS else ClientError
    return cls("ERR_CLIENT_UNREACHABLE", f"cannot reach keyward at {where}: {why}", operation=operation)


def _problem_error(status: int, headers: http.client.HTTPMessage, text: str, operation: str, where: str) -> ClientError:
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    request_id = printable(body["requestId"], 100) if isinstance(body.get("requestId"), str) else None
    server_code = printable(body["code"], 100) if isinstance(body.get("code"), str) else None
    from_body = body.get("retryAfterSeconds")
    retry_after = parse_retry_after(headers.get("retry-after"))
    if retry_after is None and isinstance(from_body, int | float) and not isinstance(from_body, bool):
        retry_after = float(from_body)
    suffix = f" (request id {request_id})" if request_id else ""
    details: dict[str, Any] = {
        "http_status": status,
        "operation": operation,
        "request_id": request_id,
        "server_code": server_code,
        "retry_after": retry_after,
    }
    if is_known_code(body.get("code")):
        detail = printable(body["detail"]) if isinstance(body.get("detail"), str) else f"HTTP {status}"
        return ClientError(str(body["code"]), f"{detail}{suffix}", **details)
    if 300 <= status < 400:
        location = printable(headers.get("location") or "?", 200)
        what = f"redirected {operation} (to {location}); give the final URL as the server"
    else:
        known = f" and an unknown code {server_code}" if server_code else " without a keyward error code"
        what = f"answered {operation} with HTTP {status}{known}"
    return ClientError("ERR_CLIENT_HTTP_ERROR", f"keyward at {where} {what}{suffix}", **details)


def _read_capped(response: http.client.HTTPResponse, limit: int, operation: str) -> bytes:
    declared = response.getheader("content-length")
    too_large = ClientError(
        "ERR_CLIENT_RESPONSE_INVALID", f"the answer to {operation} is larger than {limit} bytes", operation=operation, http_status=response.status
    )
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    data = response.read(limit + 1)
    if len(data) > limit:
        raise too_large
    return data


def _attempt(settings: HttpSettings, method: str, path: str, body: object | None, bearer: str | None) -> dict[str, Any]:
    operation = f"{method} {path.split('?')[0]}"
    where = settings.base_url
    url = urllib.parse.urlsplit(settings.base_url)
    conn: http.client.HTTPConnection
    if url.scheme == "https":
        conn = http.client.HTTPSConnection(url.hostname or "", url.port, timeout=settings.timeout, context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=settings.timeout)
    headers = {"accept": "application/json, application/problem+json", "user-agent": settings.user_agent}
    payload = None
    if body is not None:
        headers["content-type"] = "application/json"
        payload = json.dumps(body, separators=(",", ":")).encode("utf-8")
    if bearer is not None:
        headers["authorization"] = f"Bearer {bearer}"
    try:
        try:
            conn.connect()
        except OSError as err:
            raise _connect_error(err, operation, where) from None
        try:
            # Redirects are never followed: they would resend the evidence or a token wherever they point.
            conn.request(method, f"{url.path}{path}", body=payload, headers=headers)
            response = conn.getresponse()
            data = _read_capped(response, settings.max_response_bytes, operation)
        except TimeoutError:
            raise ClientError(
                "ERR_CLIENT_TIMEOUT", f"keyward at {where} did not answer {operation} within {settings.timeout:g} s", operation=operation
            ) from None
        except (OSError, http.client.HTTPException) as err:
            why = errno.errorcode.get(err.errno, type(err).__name__) if isinstance(err, OSError) and err.errno else type(err).__name__
            raise ClientError(
                "ERR_CLIENT_CONNECTION_FAILED",
                f"the connection to keyward at {where} failed during {operation} ({why}); the request may have been processed",
                operation=operation,
            ) from None
    finally:
        conn.close()
    text = data.decode("utf-8", errors="replace")
    if not 200 <= response.status <= 299:
        raise _problem_error(response.status, response.headers, text, operation, where)
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ClientError(
            "ERR_CLIENT_RESPONSE_INVALID", f"the answer to {operation} is not a JSON object", operation=operation, http_status=response.status
        )
    return parsed


#: Server codes whose 503 means "not now"; other 503s (collateral missing or stale, a stale CRL or OCSP
#: answer) stay until an operator acts, so they are retried only when the server sends Retry-After.
TRANSIENT_503_CODES = frozenset({"ERR_DB_UNAVAILABLE", "ERR_NOT_READY", "ERR_KEK_UNAVAILABLE", "ERR_COLLATERAL_UNAVAILABLE"})


def is_transient_refusal(err: ClientError) -> bool:
    """429, or a 503 that may pass by itself (as the Node client's ``isTransientRefusal``)."""
    if err.http_status == 429:
        return True
    if err.http_status != 503:
        return False
    return err.server_code is None or err.retry_after is not None or err.server_code in TRANSIENT_503_CODES


def _should_retry(retry: RetryClass, err: ClientError) -> bool:
    if isinstance(err, _Unsent):
        return True
    status = err.http_status
    if retry == "unsent-only":
        return False
    if retry == "not-processed":
        return is_transient_refusal(err)
    return err.code in ("ERR_CLIENT_CONNECTION_FAILED", "ERR_CLIENT_TIMEOUT") or status in (502, 504) or is_transient_refusal(err)


def retry_delay(err: ClientError | None, n: int, settings: HttpSettings) -> float | None:
    """Seconds before retry ``n`` (0-based): the server's Retry-After (plus jitter) or exponential backoff
    with equal jitter; None when the server asks for longer than we are willing to wait."""
    if err is not None and err.retry_after is not None:
        if err.retry_after > settings.max_retry_after:
            return None
        return err.retry_after + random.uniform(0, min(0.25, err.retry_after * 0.1 + 0.05))
    ceiling = float(min(settings.max_backoff, settings.backoff * float(2**n)))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def call_json(
    settings: HttpSettings,
    method: str,
    path: str,
    *,
    body: object | None = None,
    bearer: str | None = None,
    retry: RetryClass,
) -> dict[str, Any]:
    """One call with the retries its class allows; returns the answer's JSON object."""
    n = 0
    while True:
        try:
            return _attempt(settings, method, path, body, bearer)
        except ClientError as err:
            if n >= settings.retries or not _should_retry(retry, err):
                raise _plain(err) from None
            wait = retry_delay(err, n, settings)
            if wait is None:
                raise _plain(err) from None
            time.sleep(wait)
            n += 1


def _plain(err: ClientError) -> ClientError:
    """The internal retry marker class never leaves this module."""
    if type(err) is ClientError:
        return err
    return ClientError(
        err.code,
        err.message,
        http_status=err.http_status,
        request_id=err.request_id,
        server_code=err.server_code,
        retry_after=err.retry_after,
        operation=err.operation,
    )
