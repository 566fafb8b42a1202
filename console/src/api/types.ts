// Named types from the generated schema, for the views.
import type { components } from './schema';

type S = components['schemas'];
export type Key = S['Key'];
export type KeyVersion = S['KeyVersion'];
export type Policy = S['Policy'];
export type PolicyDecision = S['PolicyDecision'];
export type AuditEvent = S['AuditEvent'];
export type Collateral = S['Collateral'];
export type KeyKind = S['KeyKind'];
