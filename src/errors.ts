// keyward's error vocabulary: one base class, a few families, one table from stable code to HTTP status.
//
// Adding a code means adding a row here; a code without a status does not compile. The message given
// to a constructor is the public one (shown to the caller); anything sensitive or internal goes in
// `cause`, which is logged by the HTTP layer and never serialised.

/** Every stable error code and its one HTTP status. Grouped by area; keep each area's rows together. */
export const ERROR_STATUS = {
  // --- request / transport --------------------------------------------------------------------
  ERR_REQUEST_MALFORMED: 400,
  ERR_REQUEST_INVALID: 400,
  ERR_REQUEST_TOO_LARGE: 413,
  ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_ROUTE_NOT_FOUND: 404,
  ERR_PRECONDITION_FAILED: 412,
  ERR_RATE_LIMITED: 429,

  // --- authentication / authorization -----------------------------------------------------------
  ERR_AUTH_REQUIRED: 401,
  ERR_AUTH_INVALID: 401,
  ERR_AUTH_FORBIDDEN: 403,
  // Too many requests with a missing or invalid credential from one client address.
  ERR_AUTH_TOO_MANY_FAILURES: 429,
  ERR_TOKEN_NOT_FOUND: 404,
  // A token tried to mint one with a wider role or scopes, or a longer life, than its own.
  ERR_TOKEN_EXCEEDS_MINTER: 403,

  // --- tenants and members (admin side) --------------------------------------------------------
  // The principal holds no role in the tenant (a platform admin is refused inside tenants).
  ERR_TENANT_FORBIDDEN: 403,
  // A principal with several tenants named none.
  ERR_TENANT_REQUIRED: 400,
  ERR_TENANT_NOT_FOUND: 404,
  ERR_TENANT_NAME_TAKEN: 409,
  // A platform admin may invite a tenant's owners only until one of them enrols a passkey.
  ERR_TENANT_OWNERS_ENROLLED: 403,
  // The quorum would exceed the number of owners holding a passkey.
  ERR_TENANT_QUORUM_UNREACHABLE: 409,
  ERR_MEMBER_NOT_FOUND: 404,
  // KEYWARD_PLATFORM_QUORUM exceeds the number of platform admins holding a passkey.
  ERR_PLATFORM_QUORUM_UNREACHABLE: 409,

  // --- passkeys and sessions --------------------------------------------------------------------
  // A cookie-authenticated write without the session's CSRF token, or from another origin.
  ERR_AUTH_CSRF_INVALID: 403,
  ERR_AUTH_ORIGIN_MISMATCH: 403,
  // Adding a passkey needs a login at most 5 minutes old.
  ERR_AUTH_REAUTH_REQUIRED: 401,
  // An enrolment code that is unknown, used, revoked or expired.
  ERR_ENROLMENT_CODE_INVALID: 400,
  // A WebAuthn challenge that is unknown, used, expired or for another ceremony.
  ERR_WEBAUTHN_CHALLENGE_INVALID: 400,
  // An attestation or assertion that does not verify (origin, RP id, user verification, signature).
  ERR_WEBAUTHN_INVALID: 401,
  // The authenticator's sign counter did not advance: a cloned or replayed authenticator.
  ERR_WEBAUTHN_COUNTER_REGRESSED: 401,

  // --- quorum approvals -------------------------------------------------------------------------
  ERR_APPROVAL_NOT_FOUND: 404,
  ERR_APPROVAL_NOT_PENDING: 409,
  ERR_APPROVAL_EXPIRED: 409,
  ERR_APPROVAL_ALREADY_APPROVED: 409,
  // The state the change was approved against moved on: nothing is applied, the approval fails.
  ERR_APPROVAL_STALE: 409,
  // The stored change no longer hashes to the digest the owners sign.
  ERR_APPROVAL_DIGEST_MISMATCH: 409,
  // API tokens request changes; only a person's passkey (in a session) approves.
  ERR_APPROVAL_PASSKEY_REQUIRED: 403,

  // --- keys and key material --------------------------------------------------------------------
  ERR_KEY_NOT_FOUND: 404,
  ERR_KEY_NAME_TAKEN: 409,
  ERR_KEY_DISABLED: 409,
  ERR_KEY_DESTROYED: 410,
  // Scheduled for destruction: releases and use refused until cancelled.
  ERR_KEY_PENDING_DESTROY: 409,
  ERR_KEY_NOT_PENDING_DESTROY: 409,
  // An anomaly alert held the key (its alertHold is on): releases refused until an owner lifts the hold.
  ERR_KEY_HELD: 409,
  ERR_KEY_NOT_HELD: 409,
  ERR_KEY_VERSION_NOT_FOUND: 404,
  ERR_DATAKEY_INVALID: 400,
  ERR_IMPORT_JWE_INVALID: 400,
  ERR_IMPORT_KEY_UNKNOWN: 400,
  ERR_IMPORT_MATERIAL_INVALID: 400,
  // The shared import key serves tenant `default` only.
  ERR_IMPORT_TENANT_UNSUPPORTED: 400,
  // An import JWE whose importToken is missing, unknown, used, expired or issued for another key.
  ERR_IMPORT_TOKEN_INVALID: 400,
  ERR_KEK_UNAVAILABLE: 503,
  ERR_KEK_UNKNOWN: 500,
  ERR_KEK_CONFIG_INVALID: 500,
  // Rotation names one of KEYWARD_KEK_TARGETS; anything else is refused before a KEK is opened.
  ERR_KEK_TARGET_UNKNOWN: 400,
  ERR_KEK_TARGET_ACTIVE: 409,
  ERR_SEALED_RECORD_INVALID: 500,

  // --- attestation and release (workload side of the protocol) ----------------------------------
  ERR_ATTEST_NONCE_MALFORMED: 400,
  ERR_ATTEST_NONCE_UNKNOWN: 400,
  ERR_ATTEST_NONCE_EXPIRED: 400,
  ERR_ATTEST_NONCE_REPLAYED: 409,
  ERR_ATTEST_KEY_INVALID: 400,
  ERR_ATTEST_TOKEN_REQUIRED: 401,
  ERR_ATTEST_TOKEN_INVALID: 401,
  ERR_ATTEST_TOKEN_EXPIRED: 401,
  ERR_POLICY_NOT_BOUND: 403,
  ERR_POLICY_NOT_FOUND: 404,
  ERR_POLICY_NAME_TAKEN: 409,
  ERR_POLICY_IN_USE: 409,

  // --- evidence: shared vocabulary for every TEE verifier ---------------------------------------
  ERR_EVIDENCE_MALFORMED: 400,
  ERR_EVIDENCE_UNSUPPORTED: 400,
  ERR_EVIDENCE_NONCE_MISMATCH: 422,
  ERR_EVIDENCE_BINDING_MISMATCH: 422,
  ERR_EVIDENCE_CLAIM_MISMATCH: 422,
  ERR_EVIDENCE_SET_INVALID: 400,
  // one device (same identity certificate or UEID) sent twice in one attestation
  ERR_EVIDENCE_DUPLICATE_DEVICE: 422,
  // certificate chains, CRLs and OCSP (any vendor)
  ERR_CHAIN_MALFORMED: 422,
  ERR_CHAIN_INCOMPLETE: 422,
  ERR_CHAIN_UNTRUSTED_ROOT: 422,
  ERR_CHAIN_SIGNATURE_INVALID: 422,
  ERR_CHAIN_NOT_YET_VALID: 422,
  ERR_CHAIN_EXPIRED: 422,
  ERR_CHAIN_REVOKED: 422,
  ERR_CHAIN_CONSTRAINT_VIOLATION: 422,
  ERR_CRL_INVALID: 422,
  ERR_CRL_SIGNATURE_INVALID: 422,
  ERR_CRL_STALE: 503,
  ERR_CRL_NOT_YET_VALID: 422,

  // --- evidence: AMD SEV-SNP --------------------------------------------------------------------
  ERR_SNP_REPORT_MALFORMED: 400,
  ERR_SNP_REPORT_VERSION_UNSUPPORTED: 400,
  ERR_SNP_RESERVED_NONZERO: 400,
  ERR_SNP_SIGNATURE_ALGORITHM_UNSUPPORTED: 400,
  ERR_SNP_SIGNATURE_INVALID: 422,
  ERR_SNP_SIGNER_MISMATCH: 422,
  ERR_SNP_PRODUCT_MISMATCH: 422,
  ERR_SNP_CHIP_ID_MISMATCH: 422,
  ERR_SNP_TCB_MISMATCH: 422,
  ERR_SNP_CERT_TABLE_MALFORMED: 400,

  // --- evidence: Intel DCAP (TDX and SGX) -------------------------------------------------------
  // quote structure (QuoteConstants / Quote.cpp): malformed input, refused before any signature check
  ERR_DCAP_QUOTE_MALFORMED: 400,
  ERR_DCAP_QUOTE_VERSION_UNSUPPORTED: 400,
  ERR_DCAP_TEE_TYPE_UNSUPPORTED: 400,
  ERR_DCAP_TEE_TYPE_MISMATCH: 400,
  ERR_DCAP_BODY_TYPE_UNSUPPORTED: 400,
  ERR_DCAP_ATTESTATION_KEY_UNSUPPORTED: 400,
  ERR_DCAP_QE_VENDOR_UNSUPPORTED: 400,
  ERR_DCAP_CERT_DATA_UNSUPPORTED: 400,
  // verdicts on the quote and its PCK certificate
  ERR_DCAP_QUOTE_SIGNATURE_INVALID: 422,
  ERR_DCAP_QE_REPORT_SIGNATURE_INVALID: 422,
  ERR_DCAP_QE_REPORT_DATA_MISMATCH: 422,
  ERR_DCAP_PCK_CERT_INVALID: 422,
  // TCB Info / QE Identity collateral (signed JSON) and the TCB evaluation over it
  ERR_DCAP_TCB_INFO_INVALID: 422,
  ERR_DCAP_TCB_INFO_SIGNATURE_INVALID: 422,
  ERR_DCAP_QE_IDENTITY_INVALID: 422,
  ERR_DCAP_QE_IDENTITY_SIGNATURE_INVALID: 422,
  ERR_DCAP_QE_IDENTITY_MISMATCH: 422,
  ERR_DCAP_TDX_MODULE_MISMATCH: 422,
  ERR_DCAP_TCB_NOT_SUPPORTED: 422,

  // --- evidence: NVIDIA GPUs and NRAS -----------------------------------------------------------
  ERR_NVIDIA_REPORT_MALFORMED: 400,
  ERR_NVIDIA_SPDM_VERSION_UNSUPPORTED: 400,
  ERR_NVIDIA_DEVICE_UNSUPPORTED: 400,
  ERR_NVIDIA_REPORT_SIGNATURE_INVALID: 422,
  ERR_NVIDIA_FWID_MISMATCH: 422,
  ERR_NVIDIA_MEASUREMENT_MISMATCH: 422,
  // reference integrity manifests (signed SWID XML)
  ERR_RIM_MALFORMED: 422,
  ERR_RIM_ALGORITHM_UNSUPPORTED: 422,
  ERR_RIM_DIGEST_MISMATCH: 422,
  ERR_RIM_SIGNATURE_INVALID: 422,
  ERR_RIM_INDEX_CONFLICT: 422,
  // OCSP responses supplied as collateral
  ERR_OCSP_INVALID: 422,
  ERR_OCSP_SIGNATURE_INVALID: 422,
  ERR_OCSP_RESPONDER_UNTRUSTED: 422,
  ERR_OCSP_NOT_YET_VALID: 422,
  ERR_OCSP_STALE: 503,
  ERR_OCSP_STATUS_UNKNOWN: 422,
  // NRAS attestation results (detached EAT)
  ERR_NRAS_MALFORMED: 400,
  ERR_NRAS_ALGORITHM_UNSUPPORTED: 422,
  ERR_NRAS_KEY_INVALID: 422,
  // the key exists but nothing configured at start or trusted by an admin vouches for it
  ERR_NRAS_SIGNER_UNTRUSTED: 422,
  ERR_NRAS_SIGNATURE_INVALID: 422,
  ERR_NRAS_ISSUER_UNTRUSTED: 422,
  ERR_NRAS_TOKEN_EXPIRED: 422,
  ERR_NRAS_TOKEN_NOT_YET_VALID: 422,
  ERR_NRAS_SUBMODS_MISMATCH: 422,
  ERR_NRAS_ATTESTATION_FAILED: 422,

  // --- evidence: AWS Nitro Enclaves -------------------------------------------------------------
  ERR_NITRO_DOCUMENT_MALFORMED: 400,
  ERR_NITRO_FIELD_INVALID: 400,
  ERR_NITRO_ALGORITHM_UNSUPPORTED: 400,
  ERR_NITRO_SIGNATURE_INVALID: 422,
  ERR_NITRO_DEBUG_ENCLAVE: 422,
  ERR_NITRO_TIMESTAMP_OUT_OF_RANGE: 422,

  // --- policies (src/policy) -------------------------------------------------------------------
  // A document that is not YAML/JSON, or breaks the schema or a size limit, is malformed input (400),
  // like any other request body that fails its schema. CEL that parses but is wrong (syntax, types,
  // unknown claims or refs) is semantically invalid content: 422 with the rule and position.
  ERR_POLICY_MALFORMED: 400,
  ERR_POLICY_INVALID: 400,
  ERR_POLICY_SYNTAX: 422,
  ERR_POLICY_TYPE: 422,
  // Its worst-case evaluation cost (estimated when saved and loaded) is above the limit.
  ERR_POLICY_TOO_COSTLY: 422,
  // An evaluation ran out of its time or memory limit (it ran in the sandbox); fails closed.
  ERR_POLICY_LIMIT_EXCEEDED: 422,
  // The workload's only answer when a policy does not allow a release; reasons go to the audit log.
  ERR_POLICY_DENIED: 403,
  // Outside tenant `default`: evidence chained to a non-vendor anchor the key's policy does not name in refs.anchors.
  ERR_POLICY_ANCHOR_NOT_ALLOWED: 403,
  // Outside tenant `default`: unchecked revocation (KEYWARD_REVOCATION=optional) without refs.allowUncheckedRevocation.
  ERR_POLICY_REVOCATION_UNCHECKED: 403,

  // --- sealed files (agent/sealed: keyward's sealed model-file format) -----------------------------
  // 400: the input or the options cannot be used as given; 422: a verdict on a sealed file's integrity
  // or on what it claims to be; 500: the file system failed underneath.
  ERR_SEALED_OPTIONS_INVALID: 400,
  ERR_SEALED_NOT_SEALED: 400,
  ERR_SEALED_VERSION_UNSUPPORTED: 400,
  ERR_SEALED_HEADER_MALFORMED: 400,
  ERR_SEALED_CHUNK_MALFORMED: 400,
  ERR_SEALED_TOO_LARGE: 400,
  ERR_SEALED_INPUT_UNREADABLE: 400,
  ERR_SEALED_OUTPUT_UNWRITABLE: 400,
  ERR_SEALED_ABORTED: 400,
  ERR_SEALED_KEY_MISMATCH: 422,
  ERR_SEALED_HEADER_AUTH_FAILED: 422,
  ERR_SEALED_CHUNK_AUTH_FAILED: 422,
  ERR_SEALED_TRUNCATED: 422,
  ERR_SEALED_EXTENDED: 422,
  ERR_SEALED_KEY_ID_MISMATCH: 422,
  ERR_SEALED_NAME_MISMATCH: 422,
  ERR_SEALED_DIRECTORY_MISMATCH: 422,
  ERR_SEALED_IO_FAILED: 500,

  // --- agent: evidence providers and the TEE simulator (agent/evidence, dev/ca) -------------------
  // Raised inside the workload, never by the server; the statuses only classify them (503: try again).
  ERR_AGENT_OPTIONS_INVALID: 400,
  ERR_AGENT_TSM_UNAVAILABLE: 500,
  ERR_AGENT_TSM_BUSY: 503,
  ERR_AGENT_EVIDENCE_FAILED: 500,
  ERR_AGENT_GPU_CMD_FAILED: 500,
  ERR_AGENT_GPU_CMD_OUTPUT_INVALID: 502,
  ERR_AGENT_GPU_CMD_TIMEOUT: 504,
  ERR_AGENT_DEV_CA_INVALID: 500,

  // --- workload client and CLI (agent/client, cli/agent, cli/seal) ------------------------------
  // Raised inside the workload by KeywardClient, never by the server; a server's own problem+json code
  // is surfaced as itself. Statuses classify: 503/504 transient (nothing or maybe something was sent),
  // 502 the server's answer was unusable, 400 the caller's options.
  ERR_CLIENT_OPTIONS_INVALID: 400,
  ERR_CLIENT_ABORTED: 400,
  ERR_CLIENT_UNREACHABLE: 503,
  ERR_CLIENT_CONNECTION_FAILED: 502,
  ERR_CLIENT_TIMEOUT: 504,
  ERR_CLIENT_HTTP_ERROR: 502,
  ERR_CLIENT_RESPONSE_INVALID: 502,
  ERR_CLIENT_JWE_INVALID: 502,
  ERR_CLI_OUTPUT_UNWRITABLE: 400,
  ERR_CLI_OUTPUT_EXISTS: 409,
  // admin commands: no token in KEYWARD_TOKEN nor stored by `keyward login` for this server
  ERR_CLI_NOT_LOGGED_IN: 401,
  // `keyward audit verify FILE`: the exported log's hash chain does not hold
  ERR_CLI_AUDIT_BROKEN: 422,

  // --- collateral -------------------------------------------------------------------------------
  ERR_COLLATERAL_MISSING: 503,
  ERR_COLLATERAL_STALE: 503,
  ERR_COLLATERAL_INVALID: 422,
  // KEYWARD_REVOCATION=required and the evidence states no revocation status (none can be supplied later)
  ERR_COLLATERAL_REVOCATION_UNAVAILABLE: 422,
  ERR_COLLATERAL_UNAVAILABLE: 503,
  ERR_COLLATERAL_UNRECOGNIZED: 400,
  // uploads and KEYWARD_COLLATERAL_DIR: recognized as collateral, but its structure cannot be read
  ERR_COLLATERAL_MALFORMED: 400,
  ERR_COLLATERAL_NOT_FOUND: 404,
  // collateral older than a version already accepted (a CRL number, a TCB evaluation data number): fetch a current one
  ERR_COLLATERAL_ROLLBACK: 503,

  // --- service ------------------------------------------------------------------------------------
  ERR_NOT_READY: 503,
  ERR_DB_UNAVAILABLE: 503,
  ERR_CONFIG_INVALID: 500,
  ERR_INTERNAL: 500,
} as const satisfies Record<`ERR_${string}`, number>;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Codes a verifier may throw: evidence, chain, CRL and collateral conditions. */
export type EvidenceErrorCode = Extract<
  ErrorCode,
  | `ERR_EVIDENCE_${string}`
  | `ERR_CHAIN_${string}`
  | `ERR_CRL_${string}`
  | `ERR_OCSP_${string}`
  | `ERR_SNP_${string}`
  | `ERR_DCAP_${string}`
  | `ERR_TDX_${string}`
  | `ERR_SGX_${string}`
  | `ERR_NVIDIA_${string}`
  | `ERR_RIM_${string}`
  | `ERR_NRAS_${string}`
  | `ERR_NITRO_${string}`
  | `ERR_COLLATERAL_${string}`
>;

export interface KeywardErrorOptions {
  /** Internal detail: logged, never sent to a caller. */
  readonly cause?: unknown;
  /** Extra public fields for the problem body (must never hold secrets). */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** Base class of every error keyward raises on purpose. */
export class KeywardError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly extra: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options: KeywardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.extra = options.extra;
  }

  /** True when retrying later may succeed (the failure is not a verdict on the input). */
  get retryable(): boolean {
    return this.status === 503 || this.status === 429;
  }
}

/** Evidence could not be accepted: a verdict on evidence, its chain or its collateral. */
export class EvidenceError extends KeywardError {
  declare readonly code: EvidenceErrorCode;
  constructor(code: EvidenceErrorCode, message: string, options: KeywardErrorOptions = {}) {
    super(code, message, options);
  }
}

/** A request was refused because of what it carried (shape, auth, state of the target). */
export class RequestError extends KeywardError {}

/** keyward itself cannot serve right now (database, KEK, configuration). */
export class ServiceError extends KeywardError {}

export function isKeywardError(value: unknown): value is KeywardError {
  return value instanceof KeywardError;
}

export function statusOf(code: ErrorCode): number {
  return ERROR_STATUS[code];
}

export function allErrorCodes(): ErrorCode[] {
  return Object.keys(ERROR_STATUS) as ErrorCode[];
}
