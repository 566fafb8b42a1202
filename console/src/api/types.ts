// Named types from the generated schema, for the views.
import type { components, paths } from './schema';

type S = components['schemas'];
export type Key = S['Key'];
export type KeyVersion = S['KeyVersion'];
export type Policy = S['Policy'];
export type PolicyDecision = S['PolicyDecision'];
export type AuditEvent = S['AuditEvent'];
export type Collateral = S['Collateral'];
export type KeyKind = S['KeyKind'];
export type Approval = S['Approval'];
export type PendingChange = S['PendingChange'];
export type Tenant = S['Tenant'];
export type Invite = S['Invite'];
export type ReleaseRecord = S['ReleaseRecord'];
export type Me = paths['/v1/auth/me']['get']['responses'][200]['content']['application/json'];
