// Generated from openapi.yaml by scripts/build-console.mjs (openapi-typescript). Do not edit.
export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness (the process is up). */
        get: operations["healthz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness (database reachable, migrations current, KEK usable). */
        get: operations["readyz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics (requests by route and status, latency histogram, process metrics). */
        get: operations["metrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.yaml": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This document. */
        get: operations["openapi"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/console/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The admin web console (a single page; its views are hash routes).
         * @description Static files built with keyward (no CDN). Console responses carry
         *     `Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'`.
         */
        get: operations["consoleIndex"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/console/{file}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One of the console's static files (script, style sheet, icon). */
        get: operations["consoleAsset"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List keys (metadata only), paginated, filtered by kind, state and labels.
         * @description Scope `keys:read` in the tenant.
         */
        get: operations["listKeys"];
        put?: never;
        /**
         * Create a key; keyward generates 32 bytes of key material.
         * @description Scope `keys:write`. Names are unique; a second create with the same name is 409 with the existing id.
         */
        post: operations["createKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys/import": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Import key material (BYOK) as a compact JWE to keyward's import key.
         * @description Scope `keys:write`. Encrypt 16–64 bytes of material to the JWK from `GET /v1/import-key`
         *     (its `kid` in the JWE header; alg `RSA-OAEP-256` or `ECDH-ES+A256KW`, enc `A256GCM`). Tenant
         *     `default` only (`ERR_IMPORT_TENANT_UNSUPPORTED`): other tenants create the key and import with
         *     `POST /v1/keys/{id}/import-params` and `POST /v1/keys/{id}/import`. A JWE bound to a key by an
         *     `importToken` is refused here (`ERR_IMPORT_TOKEN_INVALID`).
         */
        post: operations["importKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys/{id}/import-params": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Per-key BYOK import parameters (single use, at most 24 h), AWS KMS style.
         * @description Scope `keys:write` in the key's tenant (any tenant); the key must be usable. Answers the public JWK
         *     to encrypt the material to and a single-use `importToken` bound to this key; the import JWE's
         *     protected header must carry `kid` (of `publicKey`) and `importToken`, so a captured JWE imports into
         *     this key once and nowhere else (another key, a second use, an expired token, and the shared
         *     `POST /v1/keys/import` are 400 `ERR_IMPORT_TOKEN_INVALID`). Only the token's SHA-256 is stored;
         *     audited as `key.import-params`.
         */
        post: operations["createKeyImportParams"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys/{id}/import": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Import key material (BYOK) into this key as its new version, with per-key import parameters.
         * @description Scope `keys:write`. `jwe` is a compact JWE (alg `RSA-OAEP-256` or `ECDH-ES+A256KW`, enc `A256GCM`) of
         *     16–64 bytes of material to the `publicKey` of `POST /v1/keys/{id}/import-params`, whose protected
         *     header carries that `kid` and `importToken`. The token is consumed in the same transaction as the new
         *     version (audit `key.import`); the new version becomes current, as with a rotation. A missing, used,
         *     expired or other key's token is 400 `ERR_IMPORT_TOKEN_INVALID`.
         */
        post: operations["importKeyMaterial"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/import-key": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The public JWK to encrypt imported key material to.
         * @description Scope `keys:write`. Import keys are valid 30 days (`exp`); fetch a fresh one before each import.
         */
        get: operations["getImportKey"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        /**
         * Key metadata (never material). Destroyed keys read as `state` = destroyed.
         * @description Scope `keys:read`.
         */
        get: operations["getKey"];
        put?: never;
        post?: never;
        /**
         * Destroy a key (crypto-shredding); every version's material is erased, metadata is kept.
         * @description Scope `keys:write`. Idempotent.
         */
        delete: operations["destroyKey"];
        options?: never;
        head?: never;
        /**
         * Change description, labels, the key's release budget (`rateLimit`) and its anomaly-alert hold (`alertHold`); send `If-Match` with the ETag to avoid lost updates.
         * @description Scope `keys:write`.
         */
        patch: operations["updateKey"];
        trace?: never;
    };
    "/v1/keys/{id}/schedule-destroy": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Schedule the key's destruction after 7 to 30 days (state `pending-destroy`; releases refused).
         * @description Scope `keys:write` in the key's tenant; under the tenant's quorum. The window starts when the change
         *     applies; when it ends, keyward erases every version's material.
         */
        post: operations["scheduleKeyDestroy"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys/{id}/cancel-destroy": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cancel a scheduled destruction; the key returns to the state it had.
         * @description Scope `keys:write` in the key's tenant; under the tenant's quorum. Refused once the window has ended.
         */
        post: operations["cancelKeyDestroy"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys/{id}/lift-hold": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Lift the hold an anomaly alert placed on the key; releases resume.
         * @description Scope `keys:write` in the key's tenant; under the tenant's quorum. A key whose `alertHold` is on is
         *     held by a release alert (`alert.new-tee-identity`, `alert.release-burst`); while held, releases are
         *     refused with 409 `ERR_KEY_HELD`. A key that is not held answers 409 `ERR_KEY_NOT_HELD`. Audited as
         *     `key.hold-lift`.
         */
        post: operations["liftKeyHold"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys/{id}/releases": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        /**
         * Who received my key — each release and denial of the key, as JSON or CSV.
         * @description Scope `keys:read` in the key's tenant. Read from the audit log (oldest first).
         */
        get: operations["listKeyReleases"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys/{id}/versions": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        /**
         * The key's versions and their states.
         * @description Scope `keys:read`.
         */
        get: operations["listKeyVersions"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys/{id}/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Add a new version with fresh material; it becomes the current version.
         * @description Scope `keys:write`.
         */
        post: operations["rotateKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys/{id}/disable": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Disable a key (no data keys, no releases) until enabled again. Idempotent.
         * @description Scope `keys:write`.
         */
        post: operations["disableKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys/{id}/enable": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Enable a disabled key. Idempotent.
         * @description Scope `keys:write`.
         */
        post: operations["enableKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys/{id}/datakey": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * A fresh 256-bit data key, in plaintext and wrapped under the key's current version.
         * @description Scope `keys:datakey` (AWS KMS GenerateDataKey shape). Store only `wrapped` next to what you
         *     encrypt; `wrapped` names the key id and version and opens under nothing else.
         */
        post: operations["generateDataKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/challenge": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * A single-use nonce for attestation (step 1 of the release protocol).
         * @description No API token. Nonces expire (default 5 min) and work once; any replica can consume them. A
         *     challenge is stateless: nothing is written when it is issued. The nonce is 72 bytes, base64url:
         *     32 random bytes, its expiry and an HMAC over both under a key the replicas share; single use is
         *     enforced when it is consumed (attest or one-shot release). Clients treat it as opaque and hash its
         *     decoded bytes into the binding.
         */
        post: operations["createChallenge"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/attest": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Verify evidence bound to the nonce and TEE key; get an attestation token (step 3).
         * @description No API token. `bind = SHA-512(nonce ‖ SHA-256 JWK thumbprint(teePublicKey))` must be in every
         *     evidence item (REPORT_DATA for SNP/TDX/SGX, SPDM nonce = bind[0..32) for GPUs, Nitro nonce = bind).
         *     The nonce is consumed whatever the verdict. Composite evidence (CPU + N GPUs) yields one token only
         *     when every item verifies, and only when no device appears twice (`ERR_EVIDENCE_DUPLICATE_DEVICE`).
         *     The token expires after `KEYWARD_ATTESTATION_TOKEN_TTL`, or earlier when a certificate or collateral
         *     item the verdict rested on expires first (its `exp` is capped at the earliest notAfter / nextUpdate).
         */
        post: operations["attest"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys/{id}/release": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Release the key (or one of its data keys) as a JWE to the attested TEE key (step 4).
         * @description `Authorization: Bearer <attestation token>`. The key's policy is evaluated over the token's claims;
         *     a denial says only `ERR_POLICY_DENIED` (the reasons go to the audit log). A policy that cannot be
         *     evaluated within its limits (over the cost limit, or out of time or memory in the sandbox) is 422
         *     `ERR_POLICY_TOO_COSTLY` / `ERR_POLICY_LIMIT_EXCEEDED` and releases nothing. JWE alg
         *     `ECDH-ES+A256KW` (EC/OKP) or `RSA-OAEP-256` (RSA), enc `A256GCM`. With `wrappedDataKey` (from
         *     `POST /v1/keys/{id}/datakey`) the data key is released instead of the key. Outside tenant `default`,
         *     evidence resting on a non-vendor anchor the policy does not name in `refs.anchors` is 403
         *     `ERR_POLICY_ANCHOR_NOT_ALLOWED`, and an unchecked revocation without `refs.allowUncheckedRevocation:
         *     true` is 403 `ERR_POLICY_REVOCATION_UNCHECKED` (docs/trust.md). A key an anomaly alert
         *     put on hold is refused with 409 `ERR_KEY_HELD` until an owner lifts the hold (`POST
         *     /v1/keys/{id}/lift-hold`).
         */
        post: operations["releaseKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/release": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * One-shot release — evidence and every key asked for in one call; all keys or none.
         * @description No API token. The fast path of the release protocol: the evidence of `POST /v1/attest` (bound to
         *     the nonce and `teePublicKey` the same way) and the keys of `POST /v1/keys/{id}/release`, in one
         *     request. Each key is judged by its own policy; every key is released or none is. One database
         *     transaction consumes the nonce and writes the audit rows: a denial still consumes the nonce and
         *     writes a row per key (the refused key with its code and reasons, the others with
         *     `ERR_RELEASE_ALL_OR_NONE`), and releases nothing. The workload learns the first refused key's code
         *     and its `keyId` only. Exactly one CPU TEE item (snp, tdx, sgx or nitro) per attestation: anything
         *     else is 400 `ERR_EVIDENCE_SET_INVALID` before the nonce is touched. With `"token": true` the answer
         *     also carries keyward's attestation token (as `POST /v1/attest` would issue it).
         */
        post: operations["releaseOneShot"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/.well-known/jwks.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The public keys attestation tokens are signed with (they rotate daily). */
        get: operations["jwks"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/policies": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Policies by name, current versions.
         * @description Scope `policies:read` in the tenant.
         */
        get: operations["listPolicies"];
        put?: never;
        /**
         * Create a release policy (JSON, or YAML text); type-checked against the claims schema.
         * @description Scope `policies:write`. The document is `{name, description?, rules: [{name, expr}], refs?}`
         *     (JSON Schema: policies/schema.json). An unknown claim, a typo or a type mismatch is 422
         *     `ERR_POLICY_TYPE` with the rule and position in `problems`. A policy whose estimated worst-case
         *     evaluation cost is above the limit (`KEYWARD_POLICY_MAX_COST`) is 422 `ERR_POLICY_TOO_COSTLY`, its
         *     problem carrying `estimate` and `limit`. The policy belongs to the tenant named by the `tenant`
         *     query parameter (omitted: the caller's only tenant).
         */
        post: operations["createPolicy"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/policies/validate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Type-check a policy document without saving it (dry run of POST /v1/policies).
         * @description Scope `policies:read`. The same body as `POST /v1/policies` (JSON, or YAML text) and the same
         *     checks; nothing is stored or audited. A valid document answers `{"valid": true}`; a refused one
         *     the same 400/422 problem (`ERR_POLICY_*`, with `problems`) that saving it would answer.
         *     Name uniqueness is not checked.
         */
        post: operations["validatePolicy"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/policies/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["PolicyId"];
            };
            cookie?: never;
        };
        /**
         * A policy (its current version, or `?version=n`).
         * @description Scope `policies:read`.
         */
        get: operations["getPolicy"];
        /**
         * Save a new version; keys bound to the policy are decided by it from now on.
         * @description Scope `policies:write`. Earlier versions are kept; releases record the version that decided.
         */
        put: operations["updatePolicy"];
        post?: never;
        /**
         * Delete a policy no live key is bound to (its versions stay for the audit trail).
         * @description Scope `policies:write`.
         */
        delete: operations["deletePolicy"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/policies/{id}/evaluate": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["PolicyId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Dry run over claims or raw evidence; every rule's outcome with the values it read.
         * @description Scope `policies:read`. Give `claims` ({cpu, gpus}) or `evidence` (wire items as for /v1/attest,
         *     verified without a nonce binding, at `at` when given). Nothing is released or consumed.
         */
        post: operations["evaluatePolicy"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys/{id}/policy": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        get?: never;
        /**
         * Bind the key to a release policy (`null` unbinds; an unbound key is never released).
         * @description Scope `policies:write`.
         */
        put: operations["bindKeyPolicy"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/evidence/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Verify evidence with this keyward's anchors and collateral; the `keyward verify --json` verdict.
         * @description Scope `evidence:verify`. For debugging a workload's evidence: nothing is consumed or released.
         *     `evidence` is one wire item or a composite set (an array; verified as a whole, like /v1/attest).
         *     `nonce` (hex) is the expected freshness (for a set: the 64-byte binding); `at` verifies at
         *     another instant. A verdict is always 200: `verified` says which, `error.code` says why not.
         */
        post: operations["verifyEvidence"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/kek": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Root KEKs, their states and how many key versions each seals.
         * @description Scope `kek:admin`.
         */
        get: operations["kekStatus"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/kek/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Rotate the root KEK inside the running service; every sealed record is resealed under it.
         * @description Scope `kek:admin`. `target` names one of the KEKs the operator configured in `KEYWARD_KEK_TARGETS`
         *     (created when new); a request never carries a KEK URI. Without `target`: a new file next to a file
         *     KEK, or a new key label on the same PKCS#11 token. An unknown name is 400 `ERR_KEK_TARGET_UNKNOWN`,
         *     refused before anything is opened or loaded; a target that is the active KEK is 409
         *     `ERR_KEK_TARGET_ACTIVE`. An interrupted rotation is resumed instead (`resumed: true`). Same as `keyward kek rotate`, which needs
         *     the embedded database closed. A platform change: with `KEYWARD_PLATFORM_QUORUM` above 1 the answer
         *     is 202 with an approval that distinct platform admins sign with their passkeys; the change names the
         *     active KEK and the target (`{target, uri, at}`), and at apply the URI is derived from the configuration
         *     again (a different one is 409 `ERR_APPROVAL_STALE`). While fewer platform admins hold a passkey than the
         *     quorum, 409 `ERR_PLATFORM_QUORUM_UNREACHABLE`.
         */
        post: operations["rotateKek"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The audit log, oldest first; each event carries its hash-chain link.
         * @description Scope `audit:read`.
         */
        get: operations["listAudit"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Recompute the hash chain over the whole log.
         * @description Scope `audit:read`. Checks the global chain and every tenant's (and the platform's) own chain; `brokenAt` is the first event either breaks at.
         */
        get: operations["verifyAudit"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit/export": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Export a chain of the audit log with the signed checkpoints and keys that cover it.
         * @description Scope `audit:read`. With `tenant`: that tenant's own chain (its members only; anyone else gets 403
         *     `ERR_TENANT_FORBIDDEN`, a platform admin included). Without: a platform principal gets the global
         *     chain, with the rows of tenants it is not a member of reduced to their links (`redacted: true`);
         *     anyone else gets their only tenant's chain (several tenants: 400 `ERR_TENANT_REQUIRED`). Verify the
         *     result offline with `keyward audit verify FILE`. Pages: follow `nextFrom` (`keyward audit export`
         *     does). See docs/governance.md "Audit checkpoints".
         */
        get: operations["exportAudit"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit/checkpoint-keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The public keys audit checkpoints are signed with (Ed25519; not the attestation-token keys).
         * @description A JWK set of keyward's audit checkpoint keys, active and retired. These keys sign nothing but
         *     checkpoints; they never appear in `/.well-known/jwks.json`. Pin one with `keyward audit verify
         *     FILE --key`.
         */
        get: operations["listAuditCheckpointKeys"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/passkeys/register/options": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * WebAuthn creation options, for an invitee (enrolment code) or a user adding a passkey.
         * @description With `{"enrolmentCode"}`: options for the invited user (the code is consumed only when the passkey
         *     verifies). Without one: a passkey session whose login is at most 5 minutes old (else 401
         *     `ERR_AUTH_REAUTH_REQUIRED`), with the CSRF header. User verification is required; attestation `none`.
         */
        post: operations["passkeyRegisterOptions"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/passkeys/register/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Verify and store a new passkey (RegistrationResponseJSON).
         * @description The challenge is single-use and expires after 5 minutes; the origin and RP id are keyward's
         *     (`KEYWARD_ORIGIN`, `KEYWARD_RP_ID`). An enrolment code is consumed here, once. The first platform
         *     admin (other than the bootstrap admin) to enrol revokes the bootstrap token. Audited in every
         *     tenant the user belongs to.
         */
        post: operations["passkeyRegisterVerify"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/login/options": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** WebAuthn request options for a login (discoverable passkeys; user verification required). */
        post: operations["loginOptions"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/login/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Verify a login assertion; sets the `keyward_session` cookie and answers the CSRF token.
         * @description The cookie is HttpOnly, SameSite=Strict, Secure unless `KEYWARD_ORIGIN` is plain http on a loopback
         *     name, and signed; the session ends after 12 h without use and, however busy, 12 h after its login
         *     (absolute lifetime; then 401 `ERR_AUTH_INVALID` and a new login). Every cookie-authenticated write must
         *     send `Origin: <KEYWARD_ORIGIN>` (else 403 `ERR_AUTH_ORIGIN_MISMATCH`) and the CSRF token in
         *     `x-keyward-csrf` (else 403 `ERR_AUTH_CSRF_INVALID`). A sign counter that does not advance is 401
         *     `ERR_WEBAUTHN_COUNTER_REGRESSED`.
         */
        post: operations["loginVerify"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/logout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** End the session (clears the cookie). */
        post: operations["logout"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's user, platform role, tenants and roles. */
        get: operations["whoAmI"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/platform/members": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Invite a platform admin or operator (platform admin); answers a single-use enrolment code.
         * @description Scope `tenants:admin`. When the first invited platform admin enrols a passkey, the bootstrap token
         *     is revoked.
         */
        post: operations["invitePlatformMember"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tenants": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The tenants the caller acts in (a platform admin sees every tenant's name and quorum).
         * @description Any valid token or session.
         */
        get: operations["listTenants"];
        put?: never;
        /**
         * Create a tenant (platform admin).
         * @description Scope `tenants:admin` and the platform `admin` role. `quorum` (default 1) is how many distinct
         *     owners approve a sensitive change inside the tenant. The platform admin then invites the tenant's
         *     first owners; once one of them enrols a passkey, the platform admin can do nothing inside it.
         */
        post: operations["createTenant"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tenants/{tenant}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                tenant: components["parameters"]["Tenant"];
            };
            cookie?: never;
        };
        get?: never;
        /**
         * Change the tenant's quorum (an owner; under the current quorum).
         * @description A quorum above the number of owners holding a passkey is 409 `ERR_TENANT_QUORUM_UNREACHABLE`. Applying
         *     it cancels the tenant's other pending approvals.
         */
        put: operations["updateTenant"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/approvals": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Approvals of the caller's tenants (and, for platform admins, platform approvals). */
        get: operations["listApprovals"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/approvals/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        /** An approval and the exact change JSON its digest is over (recompute it before signing). */
        get: operations["getApproval"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/approvals/{id}/approve/options": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * WebAuthn request options whose challenge is SHA-256("keyward-approval:v1" ‖ digest ‖ 16 random bytes).
         * @description An owner of the tenant (platform admin for platform changes) in a passkey session; API tokens get 403 `ERR_APPROVAL_PASSKEY_REQUIRED`.
         */
        post: operations["approvalOptions"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/approvals/{id}/approve": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Approve with a passkey assertion; the change applies when the quorum of distinct owners is reached.
         * @description The change is re-checked against the state it was approved from and applied in one transaction with
         *     an audit row per approver (credential id, public key, authenticatorData, clientDataJSON, signature,
         *     the challenge randomness). A state that moved on is 409 `ERR_APPROVAL_STALE` and nothing is applied.
         */
        post: operations["approveApproval"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/approvals/{id}/reject": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Reject a pending approval (any owner of the tenant). */
        post: operations["rejectApproval"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tenants/{tenant}/members": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                tenant: components["parameters"]["Tenant"];
            };
            cookie?: never;
        };
        /**
         * Members and pending invites of a tenant.
         * @description Members of the tenant; a platform admin only while no owner holds a passkey.
         */
        get: operations["listMembers"];
        put?: never;
        /**
         * Invite a member; answers a single-use enrolment code (valid 24 h, stored hashed).
         * @description An owner of the tenant (scope `members:write`), or a platform admin inviting an `owner` while no
         *     owner of the tenant holds a passkey (afterwards 403 `ERR_TENANT_OWNERS_ENROLLED`). The code is
         *     shown only here; the invitee enrols a passkey with it.
         */
        post: operations["inviteMember"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tenants/{tenant}/members/{userId}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                tenant: components["parameters"]["Tenant"];
                userId: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Remove a member, or revoke a pending invite.
         * @description An owner of the tenant (or a platform admin while no owner holds a passkey). Open enrolment codes
         *     and the member's tokens for this tenant are revoked. Removing an owner that would leave fewer
         *     owners with a passkey than the quorum is 409 `ERR_TENANT_QUORUM_UNREACHABLE`.
         */
        delete: operations["removeMember"];
        options?: never;
        head?: never;
        /**
         * Change a member's role (owner ⇄ auditor), under the tenant's quorum.
         * @description An owner of the tenant (scope `members:write`); a platform admin is 403 `ERR_TENANT_FORBIDDEN`.
         *     The same role is 400 `ERR_REQUEST_INVALID`. Demoting an owner that would leave fewer owners with a
         *     passkey than the quorum is 409 `ERR_TENANT_QUORUM_UNREACHABLE`. A member change: it cancels the
         *     tenant's other pending approvals; the member's tokens act with the new role from then on (a token's
         *     authority is its scopes ∩ its minter's current roles).
         */
        patch: operations["updateMember"];
        trace?: never;
    };
    "/v1/tenants/{tenant}/members/{userId}/enrolment": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                tenant: components["parameters"]["Tenant"];
                userId: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Re-enrol an existing member (a new single-use enrolment code, 24 h), under the tenant's quorum.
         * @description For a member who lost their passkeys, or whose invite expired. An owner of the tenant (or a platform
         *     admin, for an owner, while no owner holds a passkey: at once). The member's open codes are revoked;
         *     the new code registers one more passkey for the same user and works once the change applies (with
         *     a quorum above 1 the 202 carries it). A member change: it cancels the tenant's other pending approvals.
         */
        post: operations["reenrolMember"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tokens": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Every API token (never secrets).
         * @description Scope `tokens:admin`.
         */
        get: operations["listTokens"];
        put?: never;
        /**
         * Create an API token; the secret is returned once.
         * @description Scope `tokens:admin`. A token delegates no more than it holds: the new token's role must be the
         *     caller's or one whose scopes the caller's role has, its scopes must all be the caller's own, and it
         *     expires no later than the caller's token (without `expiresInSeconds` it inherits that expiry).
         *     Anything wider is 403 `ERR_TOKEN_EXCEEDS_MINTER`.
         */
        post: operations["createToken"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tokens/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Revoke a token (also the bootstrap admin token). Idempotent.
         * @description Scope `tokens:admin`.
         */
        delete: operations["revokeToken"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/collateral": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The collateral held, oldest first, with validity and staleness.
         * @description Scope `collateral:read`.
         */
        get: operations["listCollateral"];
        put?: never;
        /**
         * Upload collateral; every item in it is recognized by content and stored once by SHA-256.
         * @description Scope `collateral:write`. Send either one file as it is (certificates PEM/DER or AMD's `cert_chain`,
         *     CRLs, OCSP responses, Intel TCB Info / QE Identity JSON as PCS serves it or dcap-qvl's combined
         *     JSON, NVIDIA RIM XML, a JWK set, the SEV-SNP certificate table) with a raw media type such as
         *     `application/octet-stream` (raw JSON files go this way too: `application/json` is the envelope),
         *     or several files as `application/json` `{"items": [{"name", "data": base64}]}`. All items are
         *     stored or none. Signatures are not checked here: the verifiers check every item at verification
         *     time, and stale items are refused then (`ERR_CRL_STALE` / `ERR_COLLATERAL_STALE`, 503). Content
         *     that is no collateral is `ERR_COLLATERAL_UNRECOGNIZED`; collateral whose structure cannot be read
         *     is `ERR_COLLATERAL_MALFORMED`. Audited as `collateral.upload`.
         */
        post: operations["uploadCollateral"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/collateral/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Stop holding one item. Audited as `collateral.delete`.
         * @description Scope `collateral:write`.
         */
        delete: operations["deleteCollateral"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/collateral/{id}/trust": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Trust an uploaded JWK set or certificate as a signer of NRAS results. Audited as `collateral.trust`.
         * @description Scope `collateral:trust`, which only the platform `admin` role holds (an `operator` may upload
         *     collateral but never make it trusted). Uploaded collateral is material, not trust: an NRAS result
         *     verifies only with a signing key that is configured at start (a JWK set in `KEYWARD_EXTRA_ANCHORS`)
         *     or trusted here, or whose x5c chain reaches such a certificate. A JWK set's keys, or a certificate,
         *     become anchors with `source: "uploaded"`, valid only for NRAS results, never as a hardware root;
         *     claims resting on them say `anchor.source == "uploaded"`. Trusting an item already trusted changes
         *     nothing. Deleting the item (`DELETE /v1/collateral/{id}`) ends the trust. Other kinds are
         *     `ERR_REQUEST_INVALID`; an item holding no usable public key is `ERR_COLLATERAL_INVALID`. A platform
         *     change: with `KEYWARD_PLATFORM_QUORUM` above 1 the answer is 202 with an approval naming the item
         *     and the SPKI hashes it would trust, applied once that many platform admins signed it with their
         *     passkeys (409 `ERR_PLATFORM_QUORUM_UNREACHABLE` while fewer of them hold a passkey).
         */
        post: operations["trustCollateral"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        Hex: string;
        /** @enum {string} */
        KeyKind: "model" | "dataset" | "generic";
        /** @enum {string} */
        KeyState: "active" | "disabled" | "pending-destroy" | "destroyed";
        /** @description 1–128 characters, letters, digits, `.`, `_`, `-`; must start with a letter or digit. */
        KeyName: string;
        Labels: {
            [key: string]: string;
        };
        LabelFilter: string;
        Description: string;
        /** @description A tenant's name (lowercase letters, digits, `-`; at most 63 characters). */
        TenantName: string;
        Approval: {
            /** Format: uuid */
            id: string;
            /** @description null for a platform change. */
            tenant: string | null;
            operation: string;
            target: string;
            digest: components["schemas"]["Hex"];
            required: number;
            approvedBy: string[];
            /** @enum {string} */
            state: "pending" | "applied" | "rejected" | "cancelled" | "failed" | "expired";
            requestedBy: string;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            expiresAt: string;
        };
        ReleaseRecord: {
            /** Format: date-time */
            at: string;
            /** @enum {string} */
            outcome: "released" | "denied";
            version: number | null;
            tee: string | null;
            chipId: string | null;
            /** @description TDX/SGX: FMSPC; Nitro: module id. */
            platformId: string | null;
            /** @description SNP measurement, TDX MRTD, SGX MRENCLAVE or Nitro PCR0. */
            measurement: string | null;
            /** @description `type:sha256` of each evidence item. */
            evidenceDigests: string[];
            attestationTokenId: string | null;
            policyId: string | null;
            policyVersion: number | null;
            /** @description The code the workload was told (denials). */
            code: string | null;
            failingRules: string[];
            /** @description For denials (JSON only): each failing rule's outcome as the policy evaluation explained it — the rule, its outcome and the values it read (the audit event's details.reasons). */
            reasons?: Record<string, unknown>[];
        };
        PendingChange: {
            approval: components["schemas"]["Approval"];
            /**
             * Format: uuid
             * @description An invite's user (the enrolment code works once the invite applies).
             */
            userId?: string;
            enrolmentCode?: string;
        };
        CreateTenantRequest: {
            name: components["schemas"]["TenantName"];
            /** @description Distinct owners that approve a sensitive change (default 1). */
            quorum?: number;
        };
        Tenant: {
            name: components["schemas"]["TenantName"];
            quorum: number;
            /** Format: date-time */
            createdAt: string;
            /**
             * @description The caller's role in the tenant.
             * @enum {string|null}
             */
            role: "owner" | "auditor" | null;
        };
        InviteMemberRequest: {
            name: string;
            /** @enum {string} */
            role: "owner" | "auditor";
        };
        Invite: {
            /** Format: uuid */
            userId: string;
            /** @description Single use; shown only in this answer. */
            enrolmentCode: string;
            /** Format: date-time */
            expiresAt: string;
        };
        Member: {
            /** Format: uuid */
            userId: string;
            name: string;
            /** @enum {string} */
            role: "owner" | "auditor";
            /**
             * @description `active`: holds at least one passkey.
             * @enum {string}
             */
            state: "invited" | "active";
            passkeys: number;
            /** @description An enrolment code is still usable. */
            inviteOpen: boolean;
            /** Format: date-time */
            inviteExpiresAt: string | null;
            /** Format: date-time */
            createdAt: string;
            createdBy: string;
        };
        CreateKeyRequest: {
            tenant?: components["schemas"]["TenantName"];
            name: components["schemas"]["KeyName"];
            kind: components["schemas"]["KeyKind"];
            description?: components["schemas"]["Description"];
            labels?: components["schemas"]["Labels"];
        };
        ImportKeyRequest: {
            tenant?: components["schemas"]["TenantName"];
            name: components["schemas"]["KeyName"];
            kind: components["schemas"]["KeyKind"];
            description?: components["schemas"]["Description"];
            labels?: components["schemas"]["Labels"];
            /** @description Compact JWE of the key material to the import key. */
            jwe: string;
        };
        UpdateKeyRequest: {
            description?: components["schemas"]["Description"];
            labels?: components["schemas"]["Labels"];
            /** @description The key's own release budget, shared by every replica; null returns the key to KEYWARD_KEY_RATE_LIMIT. */
            rateLimit?: components["schemas"]["KeyRateLimit"] | null;
            /** @description Hold the key (refuse releases until an owner lifts the hold) when a release alert about it is raised. */
            alertHold?: boolean;
        };
        KeyRateLimit: {
            /** @description Releases of this key per minute across all replicas; 0 = no per-key budget. */
            perMinute: number;
        };
        Key: {
            /** Format: uuid */
            id: string;
            tenant: components["schemas"]["TenantName"];
            name: components["schemas"]["KeyName"];
            kind: components["schemas"]["KeyKind"];
            description: string;
            labels: {
                [key: string]: string;
            };
            state: components["schemas"]["KeyState"];
            /** @enum {string} */
            origin: "generated" | "imported";
            /** @description The current (newest) version. */
            version: number;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
            /** Format: date-time */
            destroyedAt: string | null;
            /**
             * Format: date-time
             * @description pending-destroy: when the material is erased.
             */
            destroyAfter: string | null;
            /**
             * Format: uuid
             * @description The release policy bound with PUT /v1/keys/{id}/policy; null means the key is never released.
             */
            policyId: string | null;
            /** @description The key's own release budget; null means KEYWARD_KEY_RATE_LIMIT applies. */
            rateLimit: components["schemas"]["KeyRateLimit"] | null;
            /** @description The policy version the binding pins (versions are immutable; a new version of a bound policy re-pins its keys). */
            policyVersion: number | null;
            /** @description When true, a release alert about the key (`alert.new-tee-identity`, `alert.release-burst`) puts it on hold. */
            alertHold: boolean;
            /** @description The hold an anomaly alert placed on the key (releases refused with 409 `ERR_KEY_HELD` until an owner lifts it), or null. */
            held: {
                /** Format: date-time */
                since: string;
                /** @enum {string} */
                alert: "alert.new-tee-identity" | "alert.release-burst";
            } | null;
            etag: string;
        };
        KeyVersion: {
            version: number;
            /** @enum {string} */
            state: "active" | "destroyed";
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            destroyedAt: string | null;
        };
        DataKey: {
            /** Format: uuid */
            keyId: string;
            version: number;
            /** @description 32 bytes */
            plaintext: string;
            /** @description Opaque: kw1.<keyId>.<version>.<blob>. */
            wrapped: string;
        };
        PublicJwk: {
            /** @enum {string} */
            kty: "RSA" | "EC";
            kid: string;
            /** @enum {string} */
            alg: "RSA-OAEP-256" | "ECDH-ES+A256KW";
            /** @constant */
            use: "enc";
            exp: number;
            n?: string;
            e?: string;
            crv?: string;
            x?: string;
            y?: string;
        };
        AttestRequest: {
            nonce: string;
            /**
             * @description Public JWK born in the TEE: EC P-384, OKP X25519 (not one of the small-order points) or RSA of
             *     3072 to 8192 bits with an odd exponent of at least 65537. Anything else is `ERR_ATTEST_KEY_INVALID`.
             */
            teePublicKey: Record<string, unknown>;
            evidence: components["schemas"]["EvidenceItem"][];
        };
        /**
         * @description `{"type":"snp","report":b64,"certs":[b64...]}`, `{"type":"tdx"|"sgx","quote":b64}`,
         *     `{"type":"nvidia-gpu","report":b64,"certChain":pem}`, `{"type":"nvidia-nras","token":jwt}`,
         *     `{"type":"nitro","document":b64}`.
         */
        EvidenceItem: {
            /** @enum {string} */
            type: "snp" | "tdx" | "sgx" | "nvidia-gpu" | "nvidia-nras" | "nitro";
            report?: string;
            certs?: string[];
            quote?: string;
            certChain?: string;
            token?: string;
            document?: string;
        };
        Policy: {
            /** Format: uuid */
            id: string;
            tenant: components["schemas"]["TenantName"];
            name: string;
            version: number;
            description: string;
            /** @description The policy document of this version (see policies/schema.json). */
            document: Record<string, unknown>;
            sha256: components["schemas"]["Hex"];
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
            /** Format: date-time */
            versionCreatedAt: string;
        };
        PolicyDecision: {
            allowed: boolean;
            policy: string;
            /** Format: uuid */
            policyId: string;
            version: number;
            rules: {
                name: string;
                /** @enum {string} */
                outcome: "pass" | "fail" | "error";
                /** @description Claim path → the value the rule read (null: absent). */
                reads: Record<string, unknown>;
                message?: string;
            }[];
            /** @description Outside tenant `default` (dry runs): the pieces whose non-vendor anchor the policy does not name in `refs.anchors`, or whose unchecked revocation it does not allow (`refs.allowUncheckedRevocation`); a release would be refused (`allowed` is then false). */
            trustInputs?: {
                tee: string;
                /** @enum {string} */
                rule: "refs.anchors" | "refs.allowUncheckedRevocation";
                anchor?: {
                    source?: string;
                    spki?: string;
                    name?: string;
                };
            }[];
        };
        AuditEvent: {
            seq: number;
            /** Format: uuid */
            id: string;
            /** Format: date-time */
            at: string;
            actor: string;
            action: string;
            target: string | null;
            /** @enum {string} */
            outcome: "success" | "failure" | "denied";
            requestId: string | null;
            details: Record<string, unknown>;
            prevHash: components["schemas"]["Hex"];
            hash: components["schemas"]["Hex"];
        };
        ChainLink: {
            /** @description `platform` or `tenant:<name>`: the chain of its own the event links into. */
            chain: string;
            chainSeq: number;
            chainPrevHash: components["schemas"]["Hex"];
            /** @description SHA-256(chainPrevHash ‖ chainSeq as 8-byte big-endian ‖ hash). */
            chainHash: components["schemas"]["Hex"];
        };
        ExportedAuditEvent: {
            seq: number;
            /** Format: uuid */
            id: string;
            /** Format: date-time */
            at: string;
            actor: string;
            action: string;
            target: string | null;
            /** @enum {string} */
            outcome: "success" | "failure" | "denied";
            requestId: string | null;
            details: Record<string, unknown>;
            prevHash: components["schemas"]["Hex"];
            hash: components["schemas"]["Hex"];
            chain: string;
            chainSeq: number;
            chainPrevHash: components["schemas"]["Hex"];
            chainHash: components["schemas"]["Hex"];
        } | {
            /** @constant */
            redacted: true;
            seq: number;
            prevHash: components["schemas"]["Hex"];
            hash: components["schemas"]["Hex"];
            chain: string;
            chainSeq: number;
            chainPrevHash: components["schemas"]["Hex"];
            chainHash: components["schemas"]["Hex"];
        };
        AuditCheckpoint: {
            /** @description The global seq whose head it signs. */
            seq: number;
            kid: string;
            /**
             * @description The exact signed bytes: canonical JSON of `{"type": "keyward-audit-checkpoint/1", "seq", "head",
             *     "chains": [sorted SHA-256 hex of each chain head's canonical JSON {chain, head, seq}], "at", "kid"}`.
             */
            statement: string;
            /** @description Ed25519 over the statement (UTF-8), base64url. */
            signature: string;
            /** @description The chain heads shown (all in a global export; the tenant's own in a tenant export). */
            leaves: {
                chain: string;
                seq: number;
                head: components["schemas"]["Hex"];
            }[];
        };
        CheckpointJwk: {
            /** @constant */
            kty: "OKP";
            /** @constant */
            crv: "Ed25519";
            x: string;
            kid: string;
            /** @constant */
            alg: "EdDSA";
            use?: string;
            key_ops?: string[];
        };
        AuditExport: {
            /** @constant */
            format: "keyward-audit-export/1";
            /** @description `global` or `tenant:<name>`. */
            chain: string;
            from: number;
            /** Format: date-time */
            exportedAt: string;
            rows: components["schemas"]["ExportedAuditEvent"][];
            checkpoints: components["schemas"]["AuditCheckpoint"][];
            keys: components["schemas"]["CheckpointJwk"][];
            /** @description Where the next page starts (null: this is the last). */
            nextFrom: number | null;
        };
        CreateTokenRequest: {
            name: string;
            /** @enum {string} */
            role: "admin" | "owner" | "operator" | "auditor";
            /** @description The one tenant an `owner` or `auditor` token acts in (omitted: the caller's only tenant); platform roles name none. */
            tenant?: components["schemas"]["TenantName"];
            /** @description Narrows the role's scopes; never widens them, nor the caller's. */
            scopes?: string[];
            /** @description Lifetime; capped by the caller's own token expiry, which is also the default when the caller's token expires. */
            expiresInSeconds?: number;
        };
        Token: {
            /** Format: uuid */
            id: string;
            /** @description The tenant of an owner or auditor token; null for platform tokens. */
            tenant: string | null;
            /**
             * Format: uuid
             * @description The user who minted it; its authority never exceeds that user's current roles.
             */
            userId: string;
            name: string;
            /** @enum {string} */
            role: "admin" | "owner" | "operator" | "auditor";
            scopes: string[];
            bootstrap: boolean;
            /** Format: date-time */
            createdAt: string;
            createdBy: string;
            /** Format: date-time */
            expiresAt: string | null;
            /** Format: date-time */
            revokedAt: string | null;
        };
        /** @enum {string} */
        CollateralKind: "certificate" | "crl" | "ocsp" | "tcb-info" | "qe-identity" | "rim" | "jwks";
        /**
         * @description `upload` (POST /v1/collateral), `kds` (AMD KDS), `pcs` (Intel PCS/PCCS), `dir` (KEYWARD_COLLATERAL_DIR).
         * @enum {string}
         */
        CollateralSource: "upload" | "kds" | "pcs" | "dir";
        CollateralUploadRequest: {
            items: {
                name?: string;
                /** @description The file's bytes */
                data: string;
            }[];
        };
        CollateralFields: {
            /** @description SHA-256 of the stored bytes (DER */
            id: string;
            kind: components["schemas"]["CollateralKind"];
            /** @description Subject, CRL issuer, FMSPC, QE identity, RIM product and version, JWK ids. */
            label: string;
            /**
             * Format: date-time
             * @description notBefore (certificates, and RIMs by their signer), thisUpdate (CRLs, OCSP), issueDate (TCB Info, QE Identity).
             */
            validFrom: string | null;
            /**
             * Format: date-time
             * @description notAfter, or nextUpdate. Null when the item has no validity of its own.
             */
            validUntil: string | null;
            /** @description Past validUntil now; verifiers refuse it until a newer item of the same kind replaces it. */
            stale: boolean;
            source: components["schemas"]["CollateralSource"];
            /** @description File name given at upload. */
            name: string | null;
            /** @description The actor (`token:<id>` */
            uploadedBy: string;
            /** Format: date-time */
            createdAt: string;
            /** @description Kind-specific facts: subject/issuer/serial, AMD TCB and hwID, FMSPC, CRL issuer, OCSP statuses, ... */
            details: Record<string, unknown>;
            /** @description The platform admin who trusted this item as an anchor (POST /v1/collateral/{id}/trust); null: material only. */
            trustedBy: string | null;
            /** Format: date-time */
            trustedAt: string | null;
        };
        Collateral: components["schemas"]["CollateralFields"];
        StoredCollateral: components["schemas"]["CollateralFields"] & {
            /** @description The item was already held. */
            duplicate: boolean;
        };
        Readiness: {
            /** @enum {string} */
            status: "ready" | "not-ready";
            checks: {
                /** @enum {string} */
                name: "database" | "migrations" | "kek";
                ok: boolean;
                detail?: string;
            }[];
        };
        Problem: {
            type: string;
            title: string;
            status: number;
            code: components["schemas"]["ErrorCode"];
            detail: string;
            requestId: string;
        };
        NameTakenProblem: components["schemas"]["Problem"] & {
            /** Format: uuid */
            existingId: string;
        };
        /**
         * @description Every stable error code keyward returns. The contract test keeps this list equal to src/errors.ts.
         * @enum {string}
         */
        ErrorCode: "ERR_REQUEST_MALFORMED" | "ERR_REQUEST_INVALID" | "ERR_REQUEST_TOO_LARGE" | "ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE" | "ERR_ROUTE_NOT_FOUND" | "ERR_PRECONDITION_FAILED" | "ERR_RATE_LIMITED" | "ERR_AUTH_REQUIRED" | "ERR_AUTH_INVALID" | "ERR_AUTH_FORBIDDEN" | "ERR_AUTH_TOO_MANY_FAILURES" | "ERR_TOKEN_NOT_FOUND" | "ERR_TOKEN_EXCEEDS_MINTER" | "ERR_TENANT_FORBIDDEN" | "ERR_TENANT_REQUIRED" | "ERR_TENANT_NOT_FOUND" | "ERR_TENANT_NAME_TAKEN" | "ERR_TENANT_OWNERS_ENROLLED" | "ERR_TENANT_QUORUM_UNREACHABLE" | "ERR_MEMBER_NOT_FOUND" | "ERR_PLATFORM_QUORUM_UNREACHABLE" | "ERR_AUTH_CSRF_INVALID" | "ERR_AUTH_ORIGIN_MISMATCH" | "ERR_AUTH_REAUTH_REQUIRED" | "ERR_ENROLMENT_CODE_INVALID" | "ERR_WEBAUTHN_CHALLENGE_INVALID" | "ERR_WEBAUTHN_INVALID" | "ERR_WEBAUTHN_COUNTER_REGRESSED" | "ERR_APPROVAL_NOT_FOUND" | "ERR_APPROVAL_NOT_PENDING" | "ERR_APPROVAL_EXPIRED" | "ERR_APPROVAL_ALREADY_APPROVED" | "ERR_APPROVAL_STALE" | "ERR_APPROVAL_DIGEST_MISMATCH" | "ERR_APPROVAL_PASSKEY_REQUIRED" | "ERR_IMPORT_TENANT_UNSUPPORTED" | "ERR_IMPORT_TOKEN_INVALID" | "ERR_KEY_NOT_FOUND" | "ERR_KEY_NAME_TAKEN" | "ERR_KEY_DISABLED" | "ERR_KEY_DESTROYED" | "ERR_KEY_PENDING_DESTROY" | "ERR_KEY_NOT_PENDING_DESTROY" | "ERR_KEY_HELD" | "ERR_KEY_NOT_HELD" | "ERR_KEY_VERSION_NOT_FOUND" | "ERR_DATAKEY_INVALID" | "ERR_IMPORT_JWE_INVALID" | "ERR_IMPORT_KEY_UNKNOWN" | "ERR_IMPORT_MATERIAL_INVALID" | "ERR_KEK_UNAVAILABLE" | "ERR_KEK_UNKNOWN" | "ERR_KEK_CONFIG_INVALID" | "ERR_KEK_TARGET_UNKNOWN" | "ERR_KEK_TARGET_ACTIVE" | "ERR_SEALED_RECORD_INVALID" | "ERR_ATTEST_NONCE_MALFORMED" | "ERR_ATTEST_NONCE_UNKNOWN" | "ERR_ATTEST_NONCE_EXPIRED" | "ERR_ATTEST_NONCE_REPLAYED" | "ERR_ATTEST_KEY_INVALID" | "ERR_ATTEST_TOKEN_REQUIRED" | "ERR_ATTEST_TOKEN_INVALID" | "ERR_ATTEST_TOKEN_EXPIRED" | "ERR_RELEASE_ALL_OR_NONE" | "ERR_POLICY_NOT_BOUND" | "ERR_POLICY_NOT_FOUND" | "ERR_POLICY_NAME_TAKEN" | "ERR_POLICY_IN_USE" | "ERR_EVIDENCE_MALFORMED" | "ERR_EVIDENCE_UNSUPPORTED" | "ERR_EVIDENCE_NONCE_MISMATCH" | "ERR_EVIDENCE_BINDING_MISMATCH" | "ERR_EVIDENCE_CLAIM_MISMATCH" | "ERR_EVIDENCE_SET_INVALID" | "ERR_EVIDENCE_DUPLICATE_DEVICE" | "ERR_CHAIN_MALFORMED" | "ERR_CHAIN_INCOMPLETE" | "ERR_CHAIN_UNTRUSTED_ROOT" | "ERR_CHAIN_SIGNATURE_INVALID" | "ERR_CHAIN_NOT_YET_VALID" | "ERR_CHAIN_EXPIRED" | "ERR_CHAIN_REVOKED" | "ERR_CHAIN_CONSTRAINT_VIOLATION" | "ERR_CRL_INVALID" | "ERR_CRL_SIGNATURE_INVALID" | "ERR_CRL_STALE" | "ERR_CRL_NOT_YET_VALID" | "ERR_SNP_REPORT_MALFORMED" | "ERR_SNP_REPORT_VERSION_UNSUPPORTED" | "ERR_SNP_RESERVED_NONZERO" | "ERR_SNP_SIGNATURE_ALGORITHM_UNSUPPORTED" | "ERR_SNP_SIGNATURE_INVALID" | "ERR_SNP_SIGNER_MISMATCH" | "ERR_SNP_PRODUCT_MISMATCH" | "ERR_SNP_CHIP_ID_MISMATCH" | "ERR_SNP_TCB_MISMATCH" | "ERR_SNP_CERT_TABLE_MALFORMED" | "ERR_DCAP_QUOTE_MALFORMED" | "ERR_DCAP_QUOTE_VERSION_UNSUPPORTED" | "ERR_DCAP_TEE_TYPE_UNSUPPORTED" | "ERR_DCAP_TEE_TYPE_MISMATCH" | "ERR_DCAP_BODY_TYPE_UNSUPPORTED" | "ERR_DCAP_ATTESTATION_KEY_UNSUPPORTED" | "ERR_DCAP_QE_VENDOR_UNSUPPORTED" | "ERR_DCAP_CERT_DATA_UNSUPPORTED" | "ERR_DCAP_QUOTE_SIGNATURE_INVALID" | "ERR_DCAP_QE_REPORT_SIGNATURE_INVALID" | "ERR_DCAP_QE_REPORT_DATA_MISMATCH" | "ERR_DCAP_PCK_CERT_INVALID" | "ERR_DCAP_TCB_INFO_INVALID" | "ERR_DCAP_TCB_INFO_SIGNATURE_INVALID" | "ERR_DCAP_QE_IDENTITY_INVALID" | "ERR_DCAP_QE_IDENTITY_SIGNATURE_INVALID" | "ERR_DCAP_QE_IDENTITY_MISMATCH" | "ERR_DCAP_TDX_MODULE_MISMATCH" | "ERR_DCAP_TCB_NOT_SUPPORTED" | "ERR_NVIDIA_REPORT_MALFORMED" | "ERR_NVIDIA_SPDM_VERSION_UNSUPPORTED" | "ERR_NVIDIA_DEVICE_UNSUPPORTED" | "ERR_NVIDIA_REPORT_SIGNATURE_INVALID" | "ERR_NVIDIA_FWID_MISMATCH" | "ERR_NVIDIA_MEASUREMENT_MISMATCH" | "ERR_RIM_MALFORMED" | "ERR_RIM_ALGORITHM_UNSUPPORTED" | "ERR_RIM_DIGEST_MISMATCH" | "ERR_RIM_SIGNATURE_INVALID" | "ERR_RIM_INDEX_CONFLICT" | "ERR_OCSP_INVALID" | "ERR_OCSP_SIGNATURE_INVALID" | "ERR_OCSP_RESPONDER_UNTRUSTED" | "ERR_OCSP_NOT_YET_VALID" | "ERR_OCSP_STALE" | "ERR_OCSP_STATUS_UNKNOWN" | "ERR_NRAS_MALFORMED" | "ERR_NRAS_ALGORITHM_UNSUPPORTED" | "ERR_NRAS_KEY_INVALID" | "ERR_NRAS_SIGNER_UNTRUSTED" | "ERR_NRAS_SIGNATURE_INVALID" | "ERR_NRAS_ISSUER_UNTRUSTED" | "ERR_NRAS_TOKEN_EXPIRED" | "ERR_NRAS_TOKEN_NOT_YET_VALID" | "ERR_NRAS_SUBMODS_MISMATCH" | "ERR_NRAS_ATTESTATION_FAILED" | "ERR_NITRO_DOCUMENT_MALFORMED" | "ERR_NITRO_FIELD_INVALID" | "ERR_NITRO_ALGORITHM_UNSUPPORTED" | "ERR_NITRO_SIGNATURE_INVALID" | "ERR_NITRO_DEBUG_ENCLAVE" | "ERR_NITRO_TIMESTAMP_OUT_OF_RANGE" | "ERR_POLICY_MALFORMED" | "ERR_POLICY_INVALID" | "ERR_POLICY_SYNTAX" | "ERR_POLICY_TYPE" | "ERR_POLICY_TOO_COSTLY" | "ERR_POLICY_LIMIT_EXCEEDED" | "ERR_POLICY_DENIED" | "ERR_POLICY_ANCHOR_NOT_ALLOWED" | "ERR_POLICY_REVOCATION_UNCHECKED" | "ERR_SEALED_OPTIONS_INVALID" | "ERR_SEALED_NOT_SEALED" | "ERR_SEALED_VERSION_UNSUPPORTED" | "ERR_SEALED_HEADER_MALFORMED" | "ERR_SEALED_CHUNK_MALFORMED" | "ERR_SEALED_TOO_LARGE" | "ERR_SEALED_INPUT_UNREADABLE" | "ERR_SEALED_OUTPUT_UNWRITABLE" | "ERR_SEALED_ABORTED" | "ERR_SEALED_KEY_MISMATCH" | "ERR_SEALED_HEADER_AUTH_FAILED" | "ERR_SEALED_CHUNK_AUTH_FAILED" | "ERR_SEALED_TRUNCATED" | "ERR_SEALED_EXTENDED" | "ERR_SEALED_KEY_ID_MISMATCH" | "ERR_SEALED_NAME_MISMATCH" | "ERR_SEALED_DIRECTORY_MISMATCH" | "ERR_SEALED_IO_FAILED" | "ERR_AGENT_OPTIONS_INVALID" | "ERR_AGENT_TSM_UNAVAILABLE" | "ERR_AGENT_TSM_BUSY" | "ERR_AGENT_EVIDENCE_FAILED" | "ERR_AGENT_GPU_CMD_FAILED" | "ERR_AGENT_GPU_CMD_OUTPUT_INVALID" | "ERR_AGENT_GPU_CMD_TIMEOUT" | "ERR_AGENT_DEV_CA_INVALID" | "ERR_CLIENT_OPTIONS_INVALID" | "ERR_CLIENT_ABORTED" | "ERR_CLIENT_UNREACHABLE" | "ERR_CLIENT_CONNECTION_FAILED" | "ERR_CLIENT_TIMEOUT" | "ERR_CLIENT_HTTP_ERROR" | "ERR_CLIENT_RESPONSE_INVALID" | "ERR_CLIENT_JWE_INVALID" | "ERR_CLI_OUTPUT_UNWRITABLE" | "ERR_CLI_OUTPUT_EXISTS" | "ERR_CLI_NOT_LOGGED_IN" | "ERR_CLI_AUDIT_BROKEN" | "ERR_COLLATERAL_MISSING" | "ERR_COLLATERAL_STALE" | "ERR_COLLATERAL_INVALID" | "ERR_COLLATERAL_REVOCATION_UNAVAILABLE" | "ERR_COLLATERAL_UNAVAILABLE" | "ERR_COLLATERAL_UNRECOGNIZED" | "ERR_COLLATERAL_MALFORMED" | "ERR_COLLATERAL_NOT_FOUND" | "ERR_COLLATERAL_ROLLBACK" | "ERR_NOT_READY" | "ERR_DB_UNAVAILABLE" | "ERR_CONFIG_INVALID" | "ERR_INTERNAL";
    };
    responses: {
        /** @description An error (`application/problem+json`) with a stable `code`. */
        Problem: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /**
         * @description A dependency is down for now (`ERR_DB_UNAVAILABLE`: the database is not reachable; `ERR_NOT_READY`,
         *     `ERR_KEK_UNAVAILABLE`, `ERR_COLLATERAL_UNAVAILABLE`): retry after `Retry-After` seconds. Nothing was
         *     applied; a retry with the same request is safe.
         */
        Unavailable: {
            headers: {
                /** @description Seconds to wait before retrying. */
                "Retry-After"?: number;
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
    };
    parameters: {
        KeyId: string;
        PolicyId: string;
        Tenant: components["schemas"]["TenantName"];
    };
    requestBodies: never;
    headers: {
        /** @description The key's revision; send it back in `If-Match`. */
        ETag: string;
    };
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    healthz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Up. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @constant */
                        status: "ok";
                    };
                };
            };
        };
    };
    readyz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Ready. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Readiness"];
                };
            };
            /** @description Not ready; `checks` says which dependency failed. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Readiness"];
                };
            };
        };
    };
    metrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Prometheus text exposition format. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
        };
    };
    openapi: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The OpenAPI 3.1 document. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/yaml": Record<string, unknown>;
                };
            };
        };
    };
    consoleIndex: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The console's HTML page. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                };
            };
            404: components["responses"]["Problem"];
        };
    };
    consoleAsset: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                file: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The file. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                    "text/javascript": string;
                    "text/css": string;
                    "image/svg+xml": string;
                };
            };
            400: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
        };
    };
    listKeys: {
        parameters: {
            query?: {
                /** @description The tenant (omitted — the caller's only tenant; a caller with several gets 400 `ERR_TENANT_REQUIRED`). */
                tenant?: components["schemas"]["TenantName"];
                kind?: components["schemas"]["KeyKind"];
                state?: components["schemas"]["KeyState"];
                /** @description `name=value`; repeat to require several labels. */
                label?: components["schemas"]["LabelFilter"][];
                limit?: number;
                /** @description `nextCursor` of the previous page. */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of keys. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["Key"][];
                        nextCursor: string | null;
                    };
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    createKey: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateKeyRequest"];
            };
        };
        responses: {
            /** @description Created. */
            201: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    Location?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Key"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            /** @description A key with this name exists (`ERR_KEY_NAME_TAKEN`); `existingId` names it. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["NameTakenProblem"];
                };
            };
            413: components["responses"]["Problem"];
            415: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    importKey: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ImportKeyRequest"];
            };
        };
        responses: {
            /** @description Imported. */
            201: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    Location?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Key"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            /** @description A key with this name exists. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["NameTakenProblem"];
                };
            };
            503: components["responses"]["Unavailable"];
        };
    };
    createKeyImportParams: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": {
                    /**
                     * @default RSA-OAEP-256
                     * @enum {string}
                     */
                    alg?: "RSA-OAEP-256" | "ECDH-ES+A256KW";
                };
            };
        };
        responses: {
            /** @description The import parameters. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        publicKey: components["schemas"]["PublicJwk"];
                        importToken: string;
                        /** Format: date-time */
                        expiresAt: string;
                    };
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            409: components["responses"]["Problem"];
            410: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    importKeyMaterial: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    jwe: string;
                };
            };
        };
        responses: {
            /** @description The key with its new `version`. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Key"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            409: components["responses"]["Problem"];
            410: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    getImportKey: {
        parameters: {
            query?: {
                alg?: "RSA-OAEP-256" | "ECDH-ES+A256KW";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A public JWK with `kid`, `alg`, `use` = enc and `exp`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PublicJwk"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    getKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The key. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Key"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    destroyKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The tombstone. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Key"];
                };
            };
            /** @description The tenant's quorum is above 1; the change waits for owners' passkey approvals. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PendingChange"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            409: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    updateKey: {
        parameters: {
            query?: never;
            header?: {
                "If-Match"?: string;
            };
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UpdateKeyRequest"];
            };
        };
        responses: {
            /** @description Updated. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Key"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            410: components["responses"]["Problem"];
            412: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    scheduleKeyDestroy: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    pendingDays: number;
                };
            };
        };
        responses: {
            /** @description Scheduled. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Key"];
                };
            };
            /** @description The tenant's quorum is above 1; the change waits for owners' passkey approvals. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PendingChange"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            409: components["responses"]["Problem"];
            410: components["responses"]["Problem"];
            415: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    cancelKeyDestroy: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Cancelled. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Key"];
                };
            };
            /** @description The tenant's quorum is above 1; the change waits for owners' passkey approvals. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PendingChange"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            409: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    liftKeyHold: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The hold is lifted. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Key"];
                };
            };
            /** @description The tenant's quorum is above 1; the change waits for owners' passkey approvals. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PendingChange"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            409: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    listKeyReleases: {
        parameters: {
            query?: {
                from?: string;
                to?: string;
                outcome?: "released" | "denied";
                format?: "json" | "csv";
                limit?: number;
            };
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Releases and denials. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["ReleaseRecord"][];
                    };
                    "text/csv": string;
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    listKeyVersions: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Versions, oldest first. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["KeyVersion"][];
                    };
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    rotateKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The key with its new `version`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Key"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            409: components["responses"]["Problem"];
            410: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    disableKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The disabled key. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Key"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            409: components["responses"]["Problem"];
            410: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    enableKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The active key. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Key"];
                };
            };
            /** @description The tenant's quorum is above 1; the change waits for owners' passkey approvals. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PendingChange"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            409: components["responses"]["Problem"];
            410: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    generateDataKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The data key. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DataKey"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            409: components["responses"]["Problem"];
            410: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    createChallenge: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The nonce. */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description base64url; 32 random bytes, then the expiry and its HMAC (96 characters today). */
                        nonce: string;
                        /** Format: date-time */
                        expiresAt: string;
                    };
                };
            };
            429: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    attest: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AttestRequest"];
            };
        };
        responses: {
            /** @description The attestation token and the claims it carries. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description JWS (EdDSA, typ kw-attest+jwt); keys at /.well-known/jwks.json. */
                        token: string;
                        /**
                         * Format: date-time
                         * @description The token's exp: the TTL, capped at the evidence's own validity.
                         */
                        expiresAt: string;
                        claims: {
                            cpu: Record<string, unknown> | null;
                            gpus: Record<string, unknown>[];
                            gpuTopology: Record<string, unknown> | null;
                        };
                    };
                };
            };
            400: components["responses"]["Problem"];
            409: components["responses"]["Problem"];
            413: components["responses"]["Problem"];
            422: components["responses"]["Problem"];
            429: components["responses"]["Problem"];
            503: components["responses"]["Problem"];
        };
    };
    releaseKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": {
                    version?: number;
                    wrappedDataKey?: string;
                };
            };
        };
        responses: {
            /** @description The released secret, encrypted to the TEE key. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** Format: uuid */
                        keyId: string;
                        version: number;
                        /** @description Compact JWE to the teePublicKey. */
                        jwe: string;
                        /**
                         * Format: uuid
                         * @description Names this release in the audit log.
                         */
                        releaseId: string;
                    };
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            409: components["responses"]["Problem"];
            410: components["responses"]["Problem"];
            422: components["responses"]["Problem"];
            429: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    releaseOneShot: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    nonce: string;
                    /** @description Public JWK born in the TEE (as for `POST /v1/attest`). */
                    teePublicKey: Record<string, unknown>;
                    evidence: components["schemas"]["EvidenceItem"][];
                    keys: {
                        keyId: string;
                        version?: number;
                        wrappedDataKey?: string;
                    }[];
                    /** @description Also answer with the attestation token. */
                    token?: boolean;
                };
            };
        };
        responses: {
            /** @description Every key asked for, in the order asked, each encrypted to the TEE key. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        releases: {
                            /** Format: uuid */
                            keyId: string;
                            version: number;
                            /** @description Compact JWE to the teePublicKey. */
                            jwe: string;
                            /**
                             * Format: uuid
                             * @description Names this release in the audit log.
                             */
                            releaseId: string;
                        }[];
                        /** @description The attestation token, only when asked for ("token": true). */
                        token?: string;
                    };
                };
            };
            400: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            409: components["responses"]["Problem"];
            410: components["responses"]["Problem"];
            413: components["responses"]["Problem"];
            422: components["responses"]["Problem"];
            429: components["responses"]["Problem"];
            503: components["responses"]["Problem"];
        };
    };
    jwks: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A JWK set. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        keys: {
                            /** @constant */
                            kty: "OKP";
                            /** @constant */
                            crv?: "Ed25519";
                            x?: string;
                            kid: string;
                            /** @constant */
                            alg: "EdDSA";
                            /** @constant */
                            use: "sig";
                        }[];
                    };
                };
            };
            503: components["responses"]["Unavailable"];
        };
    };
    listPolicies: {
        parameters: {
            query?: {
                /** @description The tenant (omitted — the caller's only tenant; a caller with several gets 400 `ERR_TENANT_REQUIRED`). */
                tenant?: components["schemas"]["TenantName"];
                limit?: number;
                /** @description `nextAfter` of the previous page. */
                after?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of policies. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["Policy"][];
                        nextAfter: string | null;
                    };
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    createPolicy: {
        parameters: {
            query?: {
                /** @description The tenant (omitted — the caller's only tenant; a caller with several gets 400 `ERR_TENANT_REQUIRED`). */
                tenant?: components["schemas"]["TenantName"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": Record<string, unknown>;
                "application/yaml": string;
            };
        };
        responses: {
            /** @description Created (version 1). */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Policy"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            409: components["responses"]["Problem"];
            415: components["responses"]["Problem"];
            422: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    validatePolicy: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": Record<string, unknown>;
                "application/yaml": string;
            };
        };
        responses: {
            /** @description The document would be accepted. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @constant */
                        valid: true;
                    };
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            415: components["responses"]["Problem"];
            422: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    getPolicy: {
        parameters: {
            query?: {
                version?: number;
            };
            header?: never;
            path: {
                id: components["parameters"]["PolicyId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The policy. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Policy"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    updatePolicy: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["PolicyId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": Record<string, unknown>;
                "application/yaml": string;
            };
        };
        responses: {
            /** @description The policy at its new version. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Policy"];
                };
            };
            /** @description The tenant's quorum is above 1; the change waits for owners' passkey approvals. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PendingChange"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            409: components["responses"]["Problem"];
            415: components["responses"]["Problem"];
            422: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    deletePolicy: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["PolicyId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            409: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    evaluatePolicy: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["PolicyId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    claims?: {
                        cpu?: Record<string, unknown> | null;
                        gpus?: Record<string, unknown>[];
                    };
                    evidence?: Record<string, unknown>[];
                    /** Format: date-time */
                    at?: string;
                    version?: number;
                };
            };
        };
        responses: {
            /** @description The decision and its explanation. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PolicyDecision"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            422: components["responses"]["Problem"];
            503: components["responses"]["Problem"];
        };
    };
    bindKeyPolicy: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["KeyId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    policyId: string | null;
                };
            };
        };
        responses: {
            /** @description The key, with its `policyId`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Key"];
                };
            };
            /** @description The tenant's quorum is above 1; the change waits for owners' passkey approvals. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PendingChange"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            410: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    verifyEvidence: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    evidence: components["schemas"]["EvidenceItem"] | components["schemas"]["EvidenceItem"][];
                    nonce?: string;
                    /** Format: date-time */
                    at?: string;
                };
            };
        };
        responses: {
            /** @description The verdict. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @constant */
                        verified: true;
                        /** @enum {string} */
                        tee: "snp" | "tdx" | "sgx" | "nvidia-gpu" | "nitro" | "composite";
                        claims: Record<string, unknown>;
                    } | {
                        /** @constant */
                        verified: false;
                        error: {
                            code: components["schemas"]["ErrorCode"];
                            message: string;
                            details?: Record<string, unknown>;
                        };
                    };
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            413: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    kekStatus: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description KEKs, oldest first, and the rotation targets configured in `KEYWARD_KEK_TARGETS`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        targets: {
                            name: string;
                            /** @description The target's KEK URI (never a PIN). */
                            uri: string;
                        }[];
                        items: {
                            id: string;
                            uri: string;
                            /** @enum {string} */
                            state: "active" | "retiring" | "retired";
                            /** Format: date-time */
                            createdAt: string;
                            /** Format: date-time */
                            retiredAt: string | null;
                            versions: number;
                        }[];
                    };
                };
            };
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    rotateKek: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": {
                    target?: string;
                };
            };
        };
        responses: {
            /** @description The rotation. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        from: string | null;
                        to: string;
                        resealed: number;
                        resumed: boolean;
                    };
                };
            };
            /** @description KEYWARD_PLATFORM_QUORUM is above 1; the change waits for platform admins' passkey approvals. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PendingChange"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            409: components["responses"]["Problem"];
            500: components["responses"]["Problem"];
            503: components["responses"]["Problem"];
        };
    };
    listAudit: {
        parameters: {
            query?: {
                /** @description Return events with `seq` greater than this. */
                after?: number;
                limit?: number;
                action?: string;
                target?: string;
                outcome?: "success" | "failure" | "denied";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of events. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["AuditEvent"][];
                        nextAfter: number | null;
                    };
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    verifyAudit: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Whether every link holds, and the head. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        ok: boolean;
                        events: number;
                        headSeq: number;
                        headHash: components["schemas"]["Hex"];
                        brokenAt: number | null;
                    };
                };
            };
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    exportAudit: {
        parameters: {
            query?: {
                tenant?: components["schemas"]["TenantName"];
                /** @description The first sequence number to export (global seq, or the tenant chain's own seq). */
                from?: number;
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of the export. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuditExport"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    listAuditCheckpointKeys: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A JWK set. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        keys: components["schemas"]["CheckpointJwk"][];
                    };
                };
            };
            503: components["responses"]["Unavailable"];
        };
    };
    passkeyRegisterOptions: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": {
                    enrolmentCode?: string;
                };
            };
        };
        responses: {
            /** @description PublicKeyCredentialCreationOptionsJSON. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": Record<string, unknown>;
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            415: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    passkeyRegisterVerify: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    response: Record<string, unknown>;
                };
            };
        };
        responses: {
            /** @description Stored. */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** Format: uuid */
                        userId: string;
                        credentialId: string;
                    };
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            415: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    loginOptions: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description PublicKeyCredentialRequestOptionsJSON. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": Record<string, unknown>;
                };
            };
            503: components["responses"]["Unavailable"];
        };
    };
    loginVerify: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    response: Record<string, unknown>;
                };
            };
        };
        responses: {
            /** @description Logged in. */
            200: {
                headers: {
                    "Set-Cookie"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** Format: uuid */
                        userId: string;
                        csrfToken: string;
                    };
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            415: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    logout: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Logged out. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    whoAmI: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Who the caller is. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** Format: uuid */
                        userId: string;
                        name: string;
                        /** @enum {string} */
                        via: "token" | "session";
                        /** @enum {string|null} */
                        platformRole: "admin" | "operator" | null;
                        tenants: {
                            tenant: string;
                            /** @enum {string} */
                            role: "owner" | "auditor";
                        }[];
                        passkeys: number;
                    };
                };
            };
            401: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    invitePlatformMember: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name: string;
                    /** @enum {string} */
                    role: "admin" | "operator";
                };
            };
        };
        responses: {
            /** @description Invited. */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Invite"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            415: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    listTenants: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Tenants. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["Tenant"][];
                    };
                };
            };
            401: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    createTenant: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateTenantRequest"];
            };
        };
        responses: {
            /** @description Created. */
            201: {
                headers: {
                    Location?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Tenant"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            409: components["responses"]["Problem"];
            415: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    updateTenant: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                tenant: components["parameters"]["Tenant"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    quorum: number;
                };
            };
        };
        responses: {
            /** @description Changed. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Tenant"];
                };
            };
            /** @description The tenant's quorum is above 1; the change waits for owners' passkey approvals. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PendingChange"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            409: components["responses"]["Problem"];
            415: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    listApprovals: {
        parameters: {
            query?: {
                state?: "pending" | "applied" | "rejected" | "cancelled" | "failed";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Approvals, newest first. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["Approval"][];
                    };
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    getApproval: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The approval. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        approval: components["schemas"]["Approval"];
                        /** @description digest = SHA-256 (hex) of the RFC 8785 canonical JSON of this object. */
                        change: Record<string, unknown>;
                    };
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    approvalOptions: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description PublicKeyCredentialRequestOptionsJSON for the caller's passkeys. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": Record<string, unknown>;
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            409: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    approveApproval: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    response: Record<string, unknown>;
                };
            };
        };
        responses: {
            /** @description Recorded; `applied` is the result when this vote completed the quorum. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        approval: components["schemas"]["Approval"];
                        applied?: unknown;
                    };
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            409: components["responses"]["Problem"];
            415: components["responses"]["Problem"];
            422: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    rejectApproval: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Rejected. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        approval: components["schemas"]["Approval"];
                    };
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            409: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    listMembers: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                tenant: components["parameters"]["Tenant"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Members. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["Member"][];
                    };
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    inviteMember: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                tenant: components["parameters"]["Tenant"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["InviteMemberRequest"];
            };
        };
        responses: {
            /** @description Invited. */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Invite"];
                };
            };
            /** @description The tenant's quorum is above 1; the change waits for owners' passkey approvals. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PendingChange"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            415: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    removeMember: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                tenant: components["parameters"]["Tenant"];
                userId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The tenant's quorum is above 1; the change waits for owners' passkey approvals. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PendingChange"];
                };
            };
            /** @description Removed. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            409: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    updateMember: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                tenant: components["parameters"]["Tenant"];
                userId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @enum {string} */
                    role: "owner" | "auditor";
                };
            };
        };
        responses: {
            /** @description The role changed. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** Format: uuid */
                        userId: string;
                        /** @enum {string} */
                        role: "owner" | "auditor";
                    };
                };
            };
            /** @description The tenant's quorum is above 1; the change waits for owners' passkey approvals. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PendingChange"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            409: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    reenrolMember: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                tenant: components["parameters"]["Tenant"];
                userId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The new enrolment code (shown once). */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Invite"];
                };
            };
            /** @description The tenant's quorum is above 1; the change waits for owners' passkey approvals. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PendingChange"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            409: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    listTokens: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Tokens. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["Token"][];
                    };
                };
            };
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    createToken: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateTokenRequest"];
            };
        };
        responses: {
            /** @description Created; `token` is the secret (not stored by keyward). */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Token"] & {
                        token: string;
                    };
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    revokeToken: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The revoked token. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Token"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    listCollateral: {
        parameters: {
            query?: {
                kind?: components["schemas"]["CollateralKind"];
                source?: components["schemas"]["CollateralSource"];
                /** @description `true`: only items past `validUntil`; `false`: only items that are not. */
                stale?: boolean;
                limit?: number;
                /** @description `nextCursor` of the previous page. */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of collateral. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["Collateral"][];
                        nextCursor: string | null;
                    };
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    uploadCollateral: {
        parameters: {
            query?: {
                /** @description File name of a raw upload (kept with the items). */
                name?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * @description The JSON envelope, or one raw file (any of the other media types; its bytes are the file, recognized
         *     by content, so raw media types carry no schema).
         */
        requestBody: {
            content: {
                "application/json": components["schemas"]["CollateralUploadRequest"];
                "application/octet-stream": unknown;
                "application/x-pem-file": unknown;
                "application/pem-certificate-chain": unknown;
                "application/pkix-cert": unknown;
                "application/x-x509-ca-cert": unknown;
                "application/pkix-crl": unknown;
                "application/ocsp-response": unknown;
                "application/jwk-set+json": unknown;
                "application/xml": unknown;
                "text/xml": unknown;
                "text/plain": unknown;
            };
        };
        responses: {
            /** @description Stored; `duplicate` marks items that were already held. */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["StoredCollateral"][];
                    };
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            413: components["responses"]["Problem"];
            415: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    deleteCollateral: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The item that was deleted. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Collateral"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
    trustCollateral: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The item, now trusted (`trustedBy`, `trustedAt`). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Collateral"];
                };
            };
            /** @description KEYWARD_PLATFORM_QUORUM is above 1; the change waits for platform admins' passkey approvals. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PendingChange"];
                };
            };
            400: components["responses"]["Problem"];
            401: components["responses"]["Problem"];
            403: components["responses"]["Problem"];
            404: components["responses"]["Problem"];
            409: components["responses"]["Problem"];
            422: components["responses"]["Problem"];
            503: components["responses"]["Unavailable"];
        };
    };
}
