// The CEL environment policies run in (docs/design.md "Policies"): claim object types from claims-schema.ts,
// the variables `cpu` and `gpus`, helper functions, and the conversion of JSON claims to CEL values.
import { Environment, EvaluationError } from '@marcbachmann/cel-js';
import {
  CLAIM_OBJECT_TYPES,
  CLAIM_VARIABLES,
  type ClaimType,
  type Fields,
  type ObjectTypeName,
} from './claims-schema.js';
import { POLICY_LIMITS } from './document-schema.js';
import type { NvidiaGpuClaims } from '../evidence/nvidia/claims.js';
import { countDistinctGpus } from '../evidence/nvidia/topology.js';

type ClaimObjectCtor = new () => Record<string, unknown>;

/** One class per claim object type: cel-js maps values to their CEL type by constructor. */
function claimClass(name: string): ClaimObjectCtor {
  const holder = { [name]: class {} };
  return holder[name] as ClaimObjectCtor;
}

const CLASSES = Object.fromEntries(
  Object.keys(CLAIM_OBJECT_TYPES).map((name) => [name, claimClass(name)]),
) as Record<ObjectTypeName, ClaimObjectCtor>;

const FIELD_ENTRIES = Object.fromEntries(
  Object.entries(CLAIM_OBJECT_TYPES).map(([name, fields]) => [name, Object.entries(fields)]),
) as Record<ObjectTypeName, [string, ClaimType][]>;

/** The CEL spelling of a claim type. */
export function celTypeName(type: ClaimType): string {
  switch (type.kind) {
    case 'list':
      return `list<${celTypeName(type.of)}>`;
    case 'map':
      return `map<string, ${celTypeName(type.of)}>`;
    case 'object':
      return type.type;
    default:
      return type.kind;
  }
}

/**
 * A claim value as CEL sees it: integers become BigInt, objects instances of their claim class holding
 * only declared fields, maps Maps. A value of the wrong kind is passed through unchanged so that reading
 * it is a CEL evaluation error (the rule fails with that reason) rather than a silent coercion.
 */
export function toCelClaim(value: unknown, type: ClaimType): unknown {
  switch (type.kind) {
    case 'int':
      return typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : value;
    case 'bool':
    case 'string':
      return value;
    case 'list':
      return Array.isArray(value) ? value.map((item) => toCelClaim(item, type.of)) : value;
    case 'map':
      return isPlainObject(value)
        ? new Map(Object.entries(value).map(([k, item]) => [k, toCelClaim(item, type.of)]))
        : value;
    case 'object':
      return isPlainObject(value) ? toCelObject(value, type.type) : value;
  }
}

function toCelObject(value: Record<string, unknown>, type: ObjectTypeName): object {
  // Only declared fields are copied (names from the schema, never from the input).
  const out = new CLASSES[type]();
  for (const [name, fieldType] of FIELD_ENTRIES[type]) {
    if (!Object.hasOwn(value, name)) continue;
    const item = value[name];
    if (item !== undefined) out[name] = toCelClaim(item, fieldType);
  }
  return out;
}

/**
 * The evaluation context for one set of claims: `cpu` (empty when absent), `gpus` (empty when absent) and
 * `gpuCount`, the distinct GPUs among them (a device that appears twice counts once).
 */
export function toCelContext(cpu: unknown, gpus: unknown): { cpu: unknown; gpus: unknown; gpuCount: bigint } {
  const list = gpus === undefined || gpus === null ? [] : gpus;
  return {
    cpu: cpu === undefined || cpu === null ? new CLASSES.CpuClaims() : toCelClaim(cpu, CLAIM_VARIABLES.cpu),
    gpus: toCelClaim(list, CLAIM_VARIABLES.gpus),
    gpuCount: BigInt(distinctGpuCount(list)),
  };
}

/** Distinct GPUs in a claims list (NVSwitches not counted); a malformed list throws. */
export function distinctGpuCount(gpus: unknown): number {
  if (!Array.isArray(gpus) || !gpus.every(isPlainObject)) throw new TypeError('gpus is not a list of claims');
  return countDistinctGpus(gpus as unknown as readonly NvidiaGpuClaims[]);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** SNP TCB components a minimum may name (SnpTcb fields). */
export const SNP_TCB_COMPONENTS: readonly string[] = Object.keys(CLAIM_OBJECT_TYPES.SnpTcb);

/**
 * tcbAtLeast(tcb, min): every component named in `min` is present in `tcb` and at least that value.
 * SNP TCB versions are compared component by component, not as one number (AMD SEV-SNP ABI, TCB_VERSION).
 */
function tcbAtLeast(tcb: Record<string, unknown>, min: Map<string, bigint> | Record<string, bigint>): boolean {
  const entries = min instanceof Map ? [...min.entries()] : Object.entries(min);
  if (entries.length === 0) throw new EvaluationError('tcbAtLeast: the minimum names no TCB component');
  let ok = true;
  for (const [component, floor] of entries) {
    if (!SNP_TCB_COMPONENTS.includes(component)) {
      throw new EvaluationError(`tcbAtLeast: "${component}" is not an SNP TCB component (${SNP_TCB_COMPONENTS.join(', ')})`);
    }
    const actual = tcb[component];
    if (typeof actual !== 'bigint' || actual < floor) ok = false;
  }
  return ok;
}

/** Dotted decimal version ("550.54.15") as numbers, or undefined when it is not one. */
export function parseVersion(text: string): number[] | undefined {
  if (!/^\d{1,9}(\.\d{1,9}){0,7}$/.test(text)) return undefined;
  return text.split('.').map(Number);
}

/** versionAtLeast(actual, min): dotted decimal comparison, missing trailing parts count as 0. */
function versionAtLeast(actual: string, min: string): boolean {
  const a = parseVersion(actual);
  const m = parseVersion(min);
  if (a === undefined || m === undefined) {
    throw new EvaluationError(`versionAtLeast: "${a === undefined ? actual : min}" is not a dotted decimal version`);
  }
  for (let i = 0; i < Math.max(a.length, m.length); i++) {
    const x = a[i] ?? 0;
    const y = m[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

let base: Environment | undefined;

/** The shared environment (claim types, cpu, gpus, helpers); each policy clones it to add its refs. */
export function baseEnvironment(): Environment {
  if (base !== undefined) return base;
  const env = new Environment({
    unlistedVariablesAreDyn: false,
    homogeneousAggregateLiterals: true,
    enableOptionalTypes: false,
    limits: {
      maxAstNodes: POLICY_LIMITS.astNodes,
      maxDepth: POLICY_LIMITS.astDepth,
      maxListElements: 256,
      maxMapEntries: 64,
      maxCallArguments: 8,
    },
  });
  for (const [name, fields] of Object.entries(CLAIM_OBJECT_TYPES) as [ObjectTypeName, Fields][]) {
    const celFields = Object.fromEntries(Object.entries(fields).map(([f, t]) => [f, celTypeName(t)]));
    env.registerType(name, { ctor: CLASSES[name], fields: celFields });
  }
  env
    .registerVariable('cpu', celTypeName(CLAIM_VARIABLES.cpu), {
      description: 'Claims of the CPU TEE (SNP, TDX, SGX) or Nitro enclave; fields of other TEEs are absent',
    })
    .registerVariable('gpus', celTypeName(CLAIM_VARIABLES.gpus), { description: 'Claims of each GPU, empty when none' })
    .registerVariable('gpuCount', celTypeName(CLAIM_VARIABLES.gpuCount), {
      description: 'How many distinct GPUs the attestation holds (NVSwitches not counted)',
    })
    .registerFunction('tcbAtLeast(SnpTcb, map<string, int>): bool', tcbAtLeast, {
      description: 'Every SNP TCB component named in the minimum is present and at least that value',
    })
    .registerFunction('versionAtLeast(string, string): bool', versionAtLeast, {
      description: 'Dotted decimal version comparison, e.g. versionAtLeast(g.driverVersion, "550.54.15")',
    });
  base = env;
  return env;
}
