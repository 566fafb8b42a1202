// Kysely table types for keyward's schema (migrations/*.sql), in camelCase (CamelCasePlugin maps them).
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date, Date>;

export interface KeksTable {
  id: string;
  uri: string;
  state: 'active' | 'retiring' | 'retired';
  createdAt: Timestamp;
  retiredAt: Timestamp | null;
}

export interface KeysTable {
  id: string;
  name: string;
  kind: 'model' | 'dataset' | 'generic';
  description: string;
  labels: ColumnType<Record<string, string>, string, string>;
  state: 'active' | 'disabled' | 'pending-destroy' | 'destroyed';
  origin: 'generated' | 'imported';
  currentVersion: number;
  revision: Generated<number>;
  createdAt: Timestamp;
  updatedAt: Timestamp;
  destroyedAt: Timestamp | null;
  policyId: ColumnType<string | null, string | null | undefined, string | null>;
  /** Releases per minute for this key; null = the configured default, 0 = no per-key budget. */
  rateLimitPerMinute: ColumnType<number | null, number | null | undefined, number | null>;
  /** The pinned version of the bound policy (null when unbound). */
  policyVersion: ColumnType<number | null, number | null | undefined, number | null>;
  tenant: ColumnType<string, string, never>;
  /** pending-destroy: when the material is erased, and the state a cancellation returns to. */
  destroyAfter: ColumnType<Date | null, Date | null | undefined, Date | null>;
  stateBeforeDestroy: ColumnType<'active' | 'disabled' | null, 'active' | 'disabled' | null | undefined, 'active' | 'disabled' | null>;
  /** An alert about the key holds it (releases refused until an owner lifts the hold). */
  alertHold: ColumnType<boolean, boolean | undefined, boolean>;
  /** HMAC of the binding (id, policyId, policyVersion) under the row-MAC key (broker/row-mac.ts). */
  mac: ColumnType<Uint8Array | null, Uint8Array | null | undefined, Uint8Array | null>;
  /** Held since (null: not held) and the alert kind that held it. */
  heldAt: ColumnType<Date | null, Date | null | undefined, Date | null>;
  heldBy: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface KeyVersionsTable {
  keyId: string;
  version: number;
  state: 'active' | 'destroyed';
  kekId: string | null;
  sealed: Uint8Array | null;
  createdAt: Timestamp;
  destroyedAt: Timestamp | null;
}

export interface ApiTokensTable {
  id: string;
  name: string;
  tokenHash: Uint8Array;
  role: 'admin' | 'operator' | 'owner' | 'auditor';
  scopes: ColumnType<string[], string, string>;
  bootstrap: boolean;
  createdAt: Timestamp;
  createdBy: string;
  expiresAt: Timestamp | null;
  revokedAt: Timestamp | null;
  userId: string;
  /** The one tenant an owner/auditor token acts in; null for platform tokens. */
  tenant: string | null;
  /** HMAC under the row-MAC key (broker/row-mac.ts); NULL only before the one-time backfill. */
  mac: ColumnType<Uint8Array | null, Uint8Array | null | undefined, Uint8Array | null>;
}

export interface ImportKeysTable {
  kid: string;
  alg: string;
  publicJwk: ColumnType<Record<string, unknown>, string, string>;
  kekId: string;
  sealedPrivate: Uint8Array;
  createdAt: Timestamp;
  expiresAt: Timestamp;
}

export interface ImportTokensTable {
  tokenHash: Uint8Array;
  keyId: string;
  tenant: string;
  kid: string;
  createdAt: Timestamp;
  createdBy: string;
  expiresAt: Timestamp;
  usedAt: Timestamp | null;
}

export interface AuditEventsTable {
  seq: number;
  id: string;
  at: Timestamp;
  actor: string;
  action: string;
  target: string | null;
  outcome: 'success' | 'failure' | 'denied';
  requestId: string | null;
  details: ColumnType<Record<string, unknown>, string, never>;
  prevHash: Uint8Array;
  hash: Uint8Array;
  /** 'platform' or 'tenant:<name>': the chain of its own this event also links into. */
  chain: string;
  chainSeq: number;
  chainPrevHash: Uint8Array;
  chainHash: Uint8Array;
}

export interface AuditChainHeadsTable {
  chain: string;
  seq: number;
  hash: Uint8Array;
  prevHash: Uint8Array;
  lastRowHash: Uint8Array;
}

export interface AuditCheckpointKeysTable {
  kid: string;
  alg: 'EdDSA';
  publicJwk: ColumnType<Record<string, unknown>, string, never>;
  kekId: string;
  sealedPrivate: Uint8Array;
  state: 'active' | 'retired';
  createdAt: Timestamp;
}

export interface AuditCheckpointsTable {
  seq: number;
  head: Uint8Array;
  at: Timestamp;
  kid: string;
  statement: string;
  signature: Uint8Array;
  chains: ColumnType<Record<string, { seq: number; head: string }>, string, never>;
}

export interface AuditHeadTable {
  singleton: boolean;
  seq: number;
  hash: Uint8Array;
}

export interface NoncesTable {
  nonceHash: Uint8Array;
  createdAt: Timestamp;
  expiresAt: Timestamp;
  consumedAt: Timestamp;
  client: string | null;
}

export interface PoliciesTable {
  id: string;
  name: string;
  currentVersion: number;
  createdAt: Timestamp;
  updatedAt: Timestamp;
  deletedAt: Timestamp | null;
  tenant: ColumnType<string, string, never>;
}

export interface PolicyVersionsTable {
  policyId: string;
  version: number;
  document: ColumnType<Record<string, unknown>, string, string>;
  source: string | null;
  sha256: string;
  createdAt: Timestamp;
  createdBy: string;
  /** HMAC under the row-MAC key (broker/row-mac.ts); NULL only before the one-time backfill. */
  mac: ColumnType<Uint8Array | null, Uint8Array | null | undefined, Uint8Array | null>;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  publicJwk: ColumnType<Record<string, unknown>, string, string>;
  kekId: string;
  sealedPrivate: Uint8Array;
  createdAt: Timestamp;
  signUntil: Timestamp;
  expiresAt: Timestamp;
}

export type CollateralKindColumn = 'certificate' | 'crl' | 'ocsp' | 'tcb-info' | 'qe-identity' | 'rim' | 'jwks';
export type CollateralSourceColumn = 'upload' | 'kds' | 'pcs' | 'dir';

export interface CollateralItemsTable {
  sha256: Uint8Array;
  kind: CollateralKindColumn;
  label: string;
  series: string;
  details: ColumnType<Record<string, unknown>, string, string>;
  data: Uint8Array;
  validFrom: Timestamp | null;
  validUntil: Timestamp | null;
  source: CollateralSourceColumn;
  name: string | null;
  uploadedBy: string;
  createdAt: Timestamp;
  /** The admin who trusted this item as an anchor (migrations/0004), or null: material only. */
  trustedBy: ColumnType<string | null, string | null | undefined, string | null>;
  trustedAt: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/** migrations/0005: the highest version of each collateral series accepted (collateral never rolls back). */
export interface CollateralFloorsTable {
  series: string;
  number: ColumnType<number | string, number, number>;
  updatedAt: Timestamp;
}

export interface CollateralStateTable {
  singleton: boolean;
  generation: ColumnType<number | string, number, number>;
}

export interface CollateralCacheTable {
  key: string;
  data: Uint8Array;
  fetchedAt: Timestamp;
}

export interface RateCountersTable {
  tenantId: string;
  scope: string;
  subject: string;
  windowStart: Timestamp;
  count: number;
}

export interface ReleaseIdentitiesTable {
  keyId: string;
  identity: string;
  firstSeen: Timestamp;
}

export interface AlertCountersTable {
  tenantId: string;
  scope: 'releases' | 'denials';
  subject: string;
  windowStart: Timestamp;
  count: number;
}

export interface TenantsTable {
  name: string;
  quorum: number;
  createdAt: Timestamp;
  createdBy: string;
  /** HMAC under the row-MAC key (broker/row-mac.ts); NULL only before the one-time backfill (0016). */
  mac: ColumnType<Uint8Array | null, Uint8Array | null | undefined, Uint8Array | null>;
}

export interface UsersTable {
  id: string;
  name: string;
  createdAt: Timestamp;
  createdBy: string;
}

export interface PlatformMembersTable {
  userId: string;
  role: 'admin' | 'operator';
  createdAt: Timestamp;
  /** HMAC under the row-MAC key (broker/row-mac.ts); NULL only before the one-time backfill (0016). */
  mac: ColumnType<Uint8Array | null, Uint8Array | null | undefined, Uint8Array | null>;
}

export interface TenantMembersTable {
  tenant: string;
  userId: string;
  role: 'owner' | 'auditor';
  createdAt: Timestamp;
  createdBy: string;
  /** HMAC under the row-MAC key (broker/row-mac.ts); NULL only before the one-time backfill (0016). */
  mac: ColumnType<Uint8Array | null, Uint8Array | null | undefined, Uint8Array | null>;
}

export interface EnrolmentCodesTable {
  codeHash: Uint8Array;
  userId: string;
  tenant: string | null;
  createdAt: Timestamp;
  createdBy: string;
  expiresAt: Timestamp;
  usedAt: Timestamp | null;
  revokedAt: Timestamp | null;
  /** HMAC under the row-MAC key (broker/row-mac.ts); NULL only before the one-time backfill (0016). */
  mac: ColumnType<Uint8Array | null, Uint8Array | null | undefined, Uint8Array | null>;
}

export interface PasskeysTable {
  credentialId: string;
  userId: string;
  publicKey: Uint8Array;
  signCount: ColumnType<number | string, number, number>;
  transports: ColumnType<string[], string, string>;
  createdAt: Timestamp;
  lastUsedAt: Timestamp | null;
  /** HMAC under the row-MAC key (broker/row-mac.ts); NULL only before the one-time backfill (0016). */
  mac: ColumnType<Uint8Array | null, Uint8Array | null | undefined, Uint8Array | null>;
}

export interface WebauthnChallengesTable {
  challenge: string;
  purpose: 'register' | 'login' | 'approval';
  userId: string | null;
  enrolmentCodeHash: Uint8Array | null;
  sessionId: string | null;
  approvalId: string | null;
  createdAt: Timestamp;
  expiresAt: Timestamp;
  consumedAt: Timestamp | null;
  randomness: ColumnType<Uint8Array | null, Uint8Array | null | undefined, Uint8Array | null>;
}

export interface ApprovalsTable {
  id: string;
  tenant: string | null;
  operation: string;
  target: string;
  change: ColumnType<Record<string, unknown>, string, string>;
  digest: string;
  required: number;
  state: 'pending' | 'applied' | 'rejected' | 'cancelled' | 'failed';
  requestedBy: string;
  requestedByUser: string | null;
  createdAt: Timestamp;
  expiresAt: Timestamp;
  decidedAt: Timestamp | null;
  decidedBy: string | null;
  reason: string | null;
  /** HMAC under the row-MAC key (broker/row-mac.ts); NULL only before the one-time backfill (0016). */
  mac: ColumnType<Uint8Array | null, Uint8Array | null | undefined, Uint8Array | null>;
}

export interface ApprovalVotesTable {
  approvalId: string;
  userId: string;
  randomness: Uint8Array;
  credentialId: string;
  publicKey: Uint8Array;
  authenticatorData: string;
  clientDataJson: string;
  signature: string;
  at: Timestamp;
  /** HMAC under the row-MAC key (broker/row-mac.ts); NULL only before the one-time backfill (0016). */
  mac: ColumnType<Uint8Array | null, Uint8Array | null | undefined, Uint8Array | null>;
}

export interface SessionsTable {
  id: string;
  userId: string;
  credentialId: string;
  csrfHash: Uint8Array;
  loginAt: Timestamp;
  lastSeenAt: Timestamp;
  revokedAt: Timestamp | null;
}

export interface ServiceKeysTable {
  purpose: 'session' | 'nonce' | 'row-mac';
  kekId: string;
  sealed: Uint8Array;
  createdAt: Timestamp;
}

export interface Schema {
  approvals: ApprovalsTable;
  approvalVotes: ApprovalVotesTable;
  webauthnChallenges: WebauthnChallengesTable;
  sessions: SessionsTable;
  serviceKeys: ServiceKeysTable;
  tenants: TenantsTable;
  users: UsersTable;
  platformMembers: PlatformMembersTable;
  tenantMembers: TenantMembersTable;
  enrolmentCodes: EnrolmentCodesTable;
  passkeys: PasskeysTable;
  keks: KeksTable;
  keys: KeysTable;
  keyVersions: KeyVersionsTable;
  apiTokens: ApiTokensTable;
  importKeys: ImportKeysTable;
  importTokens: ImportTokensTable;
  auditEvents: AuditEventsTable;
  auditHead: AuditHeadTable;
  auditChainHeads: AuditChainHeadsTable;
  auditCheckpointKeys: AuditCheckpointKeysTable;
  auditCheckpoints: AuditCheckpointsTable;
  nonces: NoncesTable;
  policies: PoliciesTable;
  policyVersions: PolicyVersionsTable;
  signingKeys: SigningKeysTable;
  collateralItems: CollateralItemsTable;
  collateralState: CollateralStateTable;
  collateralCache: CollateralCacheTable;
  collateralFloors: CollateralFloorsTable;
  rateCounters: RateCountersTable;
  releaseIdentities: ReleaseIdentitiesTable;
  alertCounters: AlertCountersTable;
}
