"""keyward's error vocabulary for Python: the same stable ``ERR_*`` codes and HTTP statuses as the server
and the Node client (src/errors.ts), one base class, and a family per area (client, evidence, sealed)."""

from __future__ import annotations

from typing import Final

#: Every stable error code and its one HTTP status, in step with src/errors.ts (a test compares them).
ERROR_STATUS: Final[dict[str, int]] = {
    # request / transport
    "ERR_REQUEST_MALFORMED": 400,
    "ERR_REQUEST_INVALID": 400,
    "ERR_REQUEST_TOO_LARGE": 413,
    "ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE": 415,
    "ERR_ROUTE_NOT_FOUND": 404,
    "ERR_PRECONDITION_FAILED": 412,
    "ERR_RATE_LIMITED": 429,
    # authentication / authorization
    "ERR_AUTH_REQUIRED": 401,
    "ERR_AUTH_INVALID": 401,
    "ERR_AUTH_FORBIDDEN": 403,
    "ERR_AUTH_TOO_MANY_FAILURES": 429,
    "ERR_TOKEN_NOT_FOUND": 404,
    "ERR_TOKEN_EXCEEDS_MINTER": 403,
    # tenants and members (admin side)
    "ERR_TENANT_FORBIDDEN": 403,
    "ERR_TENANT_REQUIRED": 400,
    "ERR_TENANT_NOT_FOUND": 404,
    "ERR_TENANT_NAME_TAKEN": 409,
    "ERR_TENANT_OWNERS_ENROLLED": 403,
    "ERR_TENANT_QUORUM_UNREACHABLE": 409,
    "ERR_MEMBER_NOT_FOUND": 404,
    "ERR_PLATFORM_QUORUM_UNREACHABLE": 409,
    # passkeys and sessions
    "ERR_AUTH_CSRF_INVALID": 403,
    "ERR_AUTH_ORIGIN_MISMATCH": 403,
    "ERR_AUTH_REAUTH_REQUIRED": 401,
    "ERR_ENROLMENT_CODE_INVALID": 400,
    "ERR_WEBAUTHN_CHALLENGE_INVALID": 400,
    "ERR_WEBAUTHN_INVALID": 401,
    "ERR_WEBAUTHN_COUNTER_REGRESSED": 401,
    # quorum approvals
    "ERR_APPROVAL_NOT_FOUND": 404,
    "ERR_APPROVAL_NOT_PENDING": 409,
    "ERR_APPROVAL_EXPIRED": 409,
    "ERR_APPROVAL_ALREADY_APPROVED": 409,
    "ERR_APPROVAL_STALE": 409,
    "ERR_APPROVAL_DIGEST_MISMATCH": 409,
    "ERR_APPROVAL_PASSKEY_REQUIRED": 403,
    # keys and key material
    "ERR_KEY_NOT_FOUND": 404,
    "ERR_KEY_NAME_TAKEN": 409,
    "ERR_KEY_DISABLED": 409,
    "ERR_KEY_DESTROYED": 410,
    "ERR_KEY_PENDING_DESTROY": 409,
    "ERR_KEY_NOT_PENDING_DESTROY": 409,
    "ERR_KEY_HELD": 409,
    "ERR_KEY_NOT_HELD": 409,
    "ERR_KEY_VERSION_NOT_FOUND": 404,
    "ERR_DATAKEY_INVALID": 400,
    "ERR_IMPORT_JWE_INVALID": 400,
    "ERR_IMPORT_KEY_UNKNOWN": 400,
    "ERR_IMPORT_MATERIAL_INVALID": 400,
    "ERR_IMPORT_TENANT_UNSUPPORTED": 400,
    "ERR_IMPORT_TOKEN_INVALID": 400,
    "ERR_KEK_UNAVAILABLE": 503,
    "ERR_KEK_UNKNOWN": 500,
    "ERR_KEK_CONFIG_INVALID": 500,
    "ERR_KEK_TARGET_UNKNOWN": 400,
    "ERR_KEK_TARGET_ACTIVE": 409,
    "ERR_SEALED_RECORD_INVALID": 500,
    # attestation and release (workload side of the protocol)
    "ERR_ATTEST_NONCE_MALFORMED": 400,
    "ERR_ATTEST_NONCE_UNKNOWN": 400,
    "ERR_ATTEST_NONCE_EXPIRED": 400,
    "ERR_ATTEST_NONCE_REPLAYED": 409,
    "ERR_ATTEST_KEY_INVALID": 400,
    "ERR_ATTEST_TOKEN_REQUIRED": 401,
    "ERR_ATTEST_TOKEN_INVALID": 401,
    "ERR_ATTEST_TOKEN_EXPIRED": 401,
    "ERR_POLICY_NOT_BOUND": 403,
    "ERR_POLICY_NOT_FOUND": 404,
    "ERR_POLICY_NAME_TAKEN": 409,
    "ERR_POLICY_IN_USE": 409,
    # evidence: shared vocabulary for every TEE verifier
    "ERR_EVIDENCE_MALFORMED": 400,
    "ERR_EVIDENCE_UNSUPPORTED": 400,
    "ERR_EVIDENCE_NONCE_MISMATCH": 422,
    "ERR_EVIDENCE_BINDING_MISMATCH": 422,
    "ERR_EVIDENCE_CLAIM_MISMATCH": 422,
    "ERR_EVIDENCE_SET_INVALID": 400,
    "ERR_EVIDENCE_DUPLICATE_DEVICE": 422,
    "ERR_CHAIN_MALFORMED": 422,
    "ERR_CHAIN_INCOMPLETE": 422,
    "ERR_CHAIN_UNTRUSTED_ROOT": 422,
    "ERR_CHAIN_SIGNATURE_INVALID": 422,
    "ERR_CHAIN_NOT_YET_VALID": 422,
    "ERR_CHAIN_EXPIRED": 422,
    "ERR_CHAIN_REVOKED": 422,
    "ERR_CHAIN_CONSTRAINT_VIOLATION": 422,
    "ERR_CRL_INVALID": 422,
    "ERR_CRL_SIGNATURE_INVALID": 422,
    "ERR_CRL_STALE": 503,
    "ERR_CRL_NOT_YET_VALID": 422,
    # evidence: AMD SEV-SNP
    "ERR_SNP_REPORT_MALFORMED": 400,
    "ERR_SNP_REPORT_VERSION_UNSUPPORTED": 400,
    "ERR_SNP_RESERVED_NONZERO": 400,
    "ERR_SNP_SIGNATURE_ALGORITHM_UNSUPPORTED": 400,
    "ERR_SNP_SIGNATURE_INVALID": 422,
    "ERR_SNP_SIGNER_MISMATCH": 422,
    "ERR_SNP_PRODUCT_MISMATCH": 422,
    "ERR_SNP_CHIP_ID_MISMATCH": 422,
    "ERR_SNP_TCB_MISMATCH": 422,
    "ERR_SNP_CERT_TABLE_MALFORMED": 400,
    # evidence: Intel DCAP (TDX and SGX)
    "ERR_DCAP_QUOTE_MALFORMED": 400,
    "ERR_DCAP_QUOTE_VERSION_UNSUPPORTED": 400,
    "ERR_DCAP_TEE_TYPE_UNSUPPORTED": 400,
    "ERR_DCAP_TEE_TYPE_MISMATCH": 400,
    "ERR_DCAP_BODY_TYPE_UNSUPPORTED": 400,
    "ERR_DCAP_ATTESTATION_KEY_UNSUPPORTED": 400,
    "ERR_DCAP_QE_VENDOR_UNSUPPORTED": 400,
    "ERR_DCAP_CERT_DATA_UNSUPPORTED": 400,
    "ERR_DCAP_QUOTE_SIGNATURE_INVALID": 422,
    "ERR_DCAP_QE_REPORT_SIGNATURE_INVALID": 422,
    "ERR_DCAP_QE_REPORT_DATA_MISMATCH": 422,
    "ERR_DCAP_PCK_CERT_INVALID": 422,
    "ERR_DCAP_TCB_INFO_INVALID": 422,
    "ERR_DCAP_TCB_INFO_SIGNATURE_INVALID": 422,
    "ERR_DCAP_QE_IDENTITY_INVALID": 422,
    "ERR_DCAP_QE_IDENTITY_SIGNATURE_INVALID": 422,
    "ERR_DCAP_QE_IDENTITY_MISMATCH": 422,
    "ERR_DCAP_TDX_MODULE_MISMATCH": 422,
    "ERR_DCAP_TCB_NOT_SUPPORTED": 422,
    # evidence: NVIDIA GPUs and NRAS
    "ERR_NVIDIA_REPORT_MALFORMED": 400,
    "ERR_NVIDIA_SPDM_VERSION_UNSUPPORTED": 400,
    "ERR_NVIDIA_DEVICE_UNSUPPORTED": 400,
    "ERR_NVIDIA_REPORT_SIGNATURE_INVALID": 422,
    "ERR_NVIDIA_FWID_MISMATCH": 422,
    "ERR_NVIDIA_MEASUREMENT_MISMATCH": 422,
    "ERR_RIM_MALFORMED": 422,
    "ERR_RIM_ALGORITHM_UNSUPPORTED": 422,
    "ERR_RIM_DIGEST_MISMATCH": 422,
    "ERR_RIM_SIGNATURE_INVALID": 422,
    "ERR_RIM_INDEX_CONFLICT": 422,
    "ERR_OCSP_INVALID": 422,
    "ERR_OCSP_SIGNATURE_INVALID": 422,
    "ERR_OCSP_RESPONDER_UNTRUSTED": 422,
    "ERR_OCSP_NOT_YET_VALID": 422,
    "ERR_OCSP_STALE": 503,
    "ERR_OCSP_STATUS_UNKNOWN": 422,
    "ERR_NRAS_MALFORMED": 400,
    "ERR_NRAS_ALGORITHM_UNSUPPORTED": 422,
    "ERR_NRAS_KEY_INVALID": 422,
    "ERR_NRAS_SIGNER_UNTRUSTED": 422,
    "ERR_NRAS_SIGNATURE_INVALID": 422,
    "ERR_NRAS_ISSUER_UNTRUSTED": 422,
    "ERR_NRAS_TOKEN_EXPIRED": 422,
    "ERR_NRAS_TOKEN_NOT_YET_VALID": 422,
    "ERR_NRAS_SUBMODS_MISMATCH": 422,
    "ERR_NRAS_ATTESTATION_FAILED": 422,
    # evidence: AWS Nitro Enclaves
    "ERR_NITRO_DOCUMENT_MALFORMED": 400,
    "ERR_NITRO_FIELD_INVALID": 400,
    "ERR_NITRO_ALGORITHM_UNSUPPORTED": 400,
    "ERR_NITRO_SIGNATURE_INVALID": 422,
    "ERR_NITRO_DEBUG_ENCLAVE": 422,
    "ERR_NITRO_TIMESTAMP_OUT_OF_RANGE": 422,
    # policies (src/policy)
    "ERR_POLICY_MALFORMED": 400,
    "ERR_POLICY_INVALID": 400,
    "ERR_POLICY_SYNTAX": 422,
    "ERR_POLICY_TYPE": 422,
    "ERR_POLICY_TOO_COSTLY": 422,
    "ERR_POLICY_LIMIT_EXCEEDED": 422,
    "ERR_POLICY_DENIED": 403,
    "ERR_POLICY_ANCHOR_NOT_ALLOWED": 403,
    "ERR_POLICY_REVOCATION_UNCHECKED": 403,
    # sealed files (agent/sealed: keyward's sealed model-file format)
    "ERR_SEALED_OPTIONS_INVALID": 400,
    "ERR_SEALED_NOT_SEALED": 400,
    "ERR_SEALED_VERSION_UNSUPPORTED": 400,
    "ERR_SEALED_HEADER_MALFORMED": 400,
    "ERR_SEALED_CHUNK_MALFORMED": 400,
    "ERR_SEALED_TOO_LARGE": 400,
    "ERR_SEALED_INPUT_UNREADABLE": 400,
    "ERR_SEALED_OUTPUT_UNWRITABLE": 400,
    "ERR_SEALED_ABORTED": 400,
    "ERR_SEALED_KEY_MISMATCH": 422,
    "ERR_SEALED_HEADER_AUTH_FAILED": 422,
    "ERR_SEALED_CHUNK_AUTH_FAILED": 422,
    "ERR_SEALED_TRUNCATED": 422,
    "ERR_SEALED_EXTENDED": 422,
    "ERR_SEALED_KEY_ID_MISMATCH": 422,
    "ERR_SEALED_NAME_MISMATCH": 422,
    "ERR_SEALED_DIRECTORY_MISMATCH": 422,
    "ERR_SEALED_IO_FAILED": 500,
    # agent: evidence providers and the TEE simulator (agent/evidence, dev/ca)
    "ERR_AGENT_OPTIONS_INVALID": 400,
    "ERR_AGENT_TSM_UNAVAILABLE": 500,
    "ERR_AGENT_TSM_BUSY": 503,
    "ERR_AGENT_EVIDENCE_FAILED": 500,
    "ERR_AGENT_GPU_CMD_FAILED": 500,
    "ERR_AGENT_GPU_CMD_OUTPUT_INVALID": 502,
    "ERR_AGENT_GPU_CMD_TIMEOUT": 504,
    "ERR_AGENT_DEV_CA_INVALID": 500,
    # workload client and CLI (agent/client, cli/agent, cli/seal)
    "ERR_CLIENT_OPTIONS_INVALID": 400,
    "ERR_CLIENT_ABORTED": 400,
    "ERR_CLIENT_UNREACHABLE": 503,
    "ERR_CLIENT_CONNECTION_FAILED": 502,
    "ERR_CLIENT_TIMEOUT": 504,
    "ERR_CLIENT_HTTP_ERROR": 502,
    "ERR_CLIENT_RESPONSE_INVALID": 502,
    "ERR_CLIENT_JWE_INVALID": 502,
    "ERR_CLI_OUTPUT_UNWRITABLE": 400,
    "ERR_CLI_OUTPUT_EXISTS": 409,
    "ERR_CLI_NOT_LOGGED_IN": 401,
    "ERR_CLI_AUDIT_BROKEN": 422,
    # collateral
    "ERR_COLLATERAL_MISSING": 503,
    "ERR_COLLATERAL_STALE": 503,
    "ERR_COLLATERAL_INVALID": 422,
    "ERR_COLLATERAL_REVOCATION_UNAVAILABLE": 422,
    "ERR_COLLATERAL_UNAVAILABLE": 503,
    "ERR_COLLATERAL_UNRECOGNIZED": 400,
    "ERR_COLLATERAL_MALFORMED": 400,
    "ERR_COLLATERAL_NOT_FOUND": 404,
    "ERR_COLLATERAL_ROLLBACK": 503,
    # service
    "ERR_NOT_READY": 503,
    "ERR_DB_UNAVAILABLE": 503,
    "ERR_CONFIG_INVALID": 500,
    "ERR_INTERNAL": 500,
}


def is_known_code(code: object) -> bool:
    """True when ``code`` is one of keyward's codes (a newer server may send codes this SDK does not know)."""
    return isinstance(code, str) and code in ERROR_STATUS


class KeywardError(Exception):
    """Base class of every error keyward raises on purpose: ``code`` is stable, ``status`` its HTTP status.

    The message is written for the caller and never holds key bytes.
    """

    code: str
    status: int

    def __init__(self, code: str, message: str) -> None:
        if code not in ERROR_STATUS:
            raise ValueError(f"unknown keyward error code {code!r}")
        super().__init__(message)
        self.code = code
        self.status = ERROR_STATUS[code]
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    @property
    def retryable(self) -> bool:
        """True when retrying later may succeed (the failure is not a verdict on the input)."""
        return self.status in (429, 503)


class ClientError(KeywardError):
    """A failed call to keyward: the server's own code when it sent one this SDK knows, else ``ERR_CLIENT_*``."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        http_status: int | None = None,
        request_id: str | None = None,
        server_code: str | None = None,
        retry_after: float | None = None,
        operation: str | None = None,
    ) -> None:
        super().__init__(code, message)
        #: The HTTP status the server answered with; None when no answer arrived.
        self.http_status = http_status
        #: The server's request id (quote it to the operator).
        self.request_id = request_id
        #: The ``code`` exactly as the server sent it (also when this SDK does not know it).
        self.server_code = server_code
        #: How long the server asked to wait before retrying, in seconds.
        self.retry_after = retry_after
        #: Which call failed, e.g. "POST /v1/attest".
        self.operation = operation


class EvidenceProviderError(KeywardError):
    """Evidence could not be produced inside the workload (``ERR_AGENT_*``)."""


class SealedFileError(KeywardError):
    """A sealed file could not be written or opened (``ERR_SEALED_*``, docs/sealed-format.md §7)."""
