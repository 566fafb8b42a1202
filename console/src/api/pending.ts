// Shapes of the routes docs/design.md fixes ("Admin side: tenants, people, approvals") that this
// server's openapi.yaml may not document yet. Used only through `call` when the server lists the route.
export interface Tenant {
  name: string;
  quorum: number;
  createdAt?: string;
  [extra: string]: unknown;
}

export interface Invitation {
  userId: string;
  enrolmentCode: string;
  expiresAt: string;
}

export interface Me {
  user: { id: string; name: string; [extra: string]: unknown };
  tenants: { tenant: string; role: string }[];
  [extra: string]: unknown;
}

export interface LoginVerified {
  csrf?: string;
  csrfToken?: string;
  [extra: string]: unknown;
}

export interface Approval {
  id: string;
  operation: string;
  digest: string;
  required: number;
  approvedBy: string[];
  state: 'pending' | 'applied' | 'rejected' | 'expired';
  expiresAt: string;
  tenant?: string;
  requestedBy?: string;
  change?: unknown;
  [extra: string]: unknown;
}

export interface ReleaseRecord {
  at: string;
  outcome: 'released' | 'denied';
  version?: number;
  tee?: string;
  chipId?: string;
  platformId?: string;
  measurement?: string;
  evidenceDigest?: string;
  attestationTokenId?: string;
  policyId?: string;
  policyVersion?: number;
  reasons?: unknown[];
  [extra: string]: unknown;
}
