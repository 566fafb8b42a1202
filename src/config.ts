// keyward's configuration, read from the environment (README.md "Configuration"): the only reader of
// process.env.
import { homedir } from 'node:os';
import { resolve, join } from 'node:path';
import { ServiceError } from './errors.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export type KekSetting =
  | { readonly provider: 'file'; readonly path: string }
  | {
      readonly provider: 'pkcs11';
      readonly module: string;
      readonly token: string;
      readonly label: string;
      readonly pin: string;
      /** The URI without secrets. */
      readonly uri: string;
    };

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** Postgres URL, or undefined for the embedded PGlite database in `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly kek: KekSetting;
  /**
   * KEYWARD_KEK_TARGETS: the KEKs a rotation may move to, by name (`name=uri,name2=uri2`). A rotation
   * request names one of them; it never carries a URI, so no request can make keyward load a library.
   */
  readonly kekTargets: ReadonlyMap<string, KekSetting>;
  readonly bootstrapToken: string | undefined;
  readonly extraAnchorsDir: string | undefined;
  readonly logLevel: LogLevel;
  /** Largest accepted request body, bytes. */
  readonly bodyLimit: number;
  /** Fetch vendor collateral (AMD KDS) on demand; off by default. */
  readonly collateralFetch: boolean;
  /** Intel PCS/PCCS base URL; collateral is fetched only when set. */
  readonly pccsUrl: string | undefined;
  /** KEYWARD_KDS_URL: the AMD KDS (or a mirror of it) used when collateralFetch is on; default https://kdsintf.amd.com. */
  readonly kdsUrl: string | undefined;
  /**
   * KEYWARD_COLLATERAL_DIR: a directory whose files (certificates, CRLs, OCSP responses, TCB Info, QE
   * Identity, RIMs, JWK sets; recognized by content, subdirectories included) are stored as collateral
   * (source 'dir') at every start: for air-gapped sites and the dev simulator's collateral.
   */
  readonly collateralDir: string | undefined;
  /** Lifetime of release challenges (nonces), seconds. */
  readonly nonceTtlSeconds: number;
  /** Lifetime of attestation tokens, seconds. */
  readonly attestationTokenTtlSeconds: number;
  /** Per-client-address request budget for the workload endpoints, requests per minute (0 = off). */
  readonly workloadRateLimit: number;
  /** KEYWARD_POLICY_MAX_COST: policies whose worst-case cost estimate is above this are refused (docs/policy-cost.md). */
  readonly policyMaxCost: number;
  /** KEYWARD_POLICY_TIMEOUT_MS: longest a policy evaluation may run in the sandbox, milliseconds. */
  readonly policyTimeoutMs: number;
  /** KEYWARD_AUDIT_CHECKPOINT_EVENTS: sign an audit checkpoint once this many events are uncovered. */
  readonly auditCheckpointEvents: number;
  /** KEYWARD_AUDIT_CHECKPOINT_INTERVAL (seconds): ... or once the oldest uncovered event is this old. */
  readonly auditCheckpointIntervalSeconds: number;
  /**
   * Release budgets per minute, shared by every replica: per key (KEYWARD_KEY_RATE_LIMIT, default
   * KEYWARD_RATE_LIMIT; a key's own `rateLimit` wins), per tenant (KEYWARD_TENANT_RATE_LIMIT, default 10 ×
   * KEYWARD_RATE_LIMIT) and per TEE identity (KEYWARD_TEE_RATE_LIMIT, default KEYWARD_RATE_LIMIT). 0 = off.
   */
  readonly releaseLimits: { readonly perKey: number; readonly perTenant: number; readonly perTee: number };
  /** KEYWARD_FAILED_ATTEMPT_LIMIT: releases with a missing or invalid attestation token per client address per minute (0 = off). */
  readonly failedAttemptLimit: number;
  /**
   * KEYWARD_REVOCATION: `required` (default) refuses evidence whose chain lacks a current revocation answer;
   * `optional` accepts it with `revocationChecked: false` in the claims (logged at start, audited).
   */
  readonly revocation: 'required' | 'optional';
  /**
   * KEYWARD_PLATFORM_QUORUM (default 1): how many distinct platform admins approve a platform change (KEK
   * rotation, trusting an uploaded signer) with their passkeys (docs/governance.md).
   */
  readonly platformQuorum: number;
  /** KEYWARD_RP_ID: the WebAuthn relying party id (a registrable domain; default `localhost`). */
  readonly rpId: string;
  /**
   * KEYWARD_ORIGIN: the one origin people's browsers use (default `http://localhost:<port>`). WebAuthn
   * client data and cookie-authenticated writes must name it; the Host header is never trusted for this.
   */
  readonly origin: string;
  /** Anomaly alerts (docs/operations.md "Anomaly alerts"): which kinds, their thresholds, the webhook. */
  readonly alerts: AlertSettings;
  /**
   * KEYWARD_RELEASE_CACHE (default on): the per-replica cache of the key rows releases read
   * (docs/performance.md "Per-replica cache of key rows"); `off`: every release reads the database.
   */
  readonly releaseCache: boolean;
}

export const ALERT_KINDS = ['new-tee-identity', 'release-burst', 'repeated-denials'] as const;
export type AlertKindSetting = (typeof ALERT_KINDS)[number];

export interface AlertSettings {
  /** KEYWARD_ALERTS: the kinds raised (default all; `off` for none). */
  readonly kinds: ReadonlySet<AlertKindSetting>;
  /**
   * release-burst: releases of a key in the current window (KEYWARD_ALERT_BURST_WINDOW seconds, default 60)
   * above KEYWARD_ALERT_BURST_FACTOR (default 10) × its average over the KEYWARD_ALERT_BURST_BASELINE
   * (default 60) windows before, and never below KEYWARD_ALERT_BURST_FLOOR (default 30).
   */
  readonly burst: { readonly windowSeconds: number; readonly baselineWindows: number; readonly factor: number; readonly floor: number };
  /** repeated-denials: KEYWARD_ALERT_DENIAL_THRESHOLD (default 5) denials of one TEE identity within KEYWARD_ALERT_DENIAL_WINDOW seconds (default 300). */
  readonly denials: { readonly windowSeconds: number; readonly threshold: number };
  /** KEYWARD_ALERT_WEBHOOK (+ _SECRET, _ATTEMPTS, _BACKOFF_MS, _TIMEOUT_MS): where alerts are POSTed, signed; undefined: nowhere. */
  readonly webhook: AlertWebhookSettings | undefined;
}

export interface AlertWebhookSettings {
  readonly url: string;
  /** HMAC-SHA256 key of the signature header. Never logged. */
  readonly secret: string;
  readonly attempts: number;
  readonly backoffMs: number;
  readonly timeoutMs: number;
}

export const MIN_ALERT_WEBHOOK_SECRET_LENGTH = 32;

export const DEFAULT_PORT = 8750;
export const DEFAULT_HOST = '127.0.0.1';
export const MIN_BOOTSTRAP_TOKEN_LENGTH = 24;

type Env = Readonly<Record<string, string | undefined>>;

function invalid(message: string): ServiceError {
  return new ServiceError('ERR_CONFIG_INVALID', message);
}

function intSetting(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw invalid(`${name} must be an integer, got "${raw}".`);
  const value = Number(raw);
  if (value < min || value > max) throw invalid(`${name} must be between ${min} and ${max}, got ${value}.`);
  return value;
}

/**
 * The prefix every PIN variable must have. Why: `pin-env=` names a variable whose value keyward reads and
 * hands to a library; without a fixed prefix a KEK URI could name any secret of the process environment.
 */
export const KEK_PIN_ENV_PREFIX = 'KEYWARD_KEK_PIN_';

/** Parses a KEYWARD_KEK URI: `file:<path>` or `pkcs11:<module>?token=..&label=..&pin-env=KEYWARD_KEK_PIN_..`. */
export function parseKekUri(uri: string, env: Env = process.env): KekSetting {
  if (uri.startsWith('file:')) {
    const path = uri.slice('file:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw invalid('KEYWARD_KEK file: needs a path, e.g. file:./.keyward/kek.');
    return { provider: 'file', path: resolve(path) };
  }
  if (uri.startsWith('pkcs11:')) {
    const rest = uri.slice('pkcs11:'.length);
    const q = rest.indexOf('?');
    const module = q < 0 ? rest : rest.slice(0, q);
    const params = new URLSearchParams(q < 0 ? '' : rest.slice(q + 1));
    const token = params.get('token');
    const label = params.get('label');
    const pinEnv = params.get('pin-env');
    if (!module || !token || !label || !pinEnv) {
      throw invalid('KEYWARD_KEK pkcs11: needs a module path and token=, label= and pin-env= parameters.');
    }
    if (params.has('pin')) throw invalid('KEYWARD_KEK must not carry the PIN itself; name an environment variable with pin-env=.');
    if (!new RegExp(`^${KEK_PIN_ENV_PREFIX}[A-Z0-9_]+$`).test(pinEnv)) {
      throw invalid(`KEYWARD_KEK pin-env must name a variable ${KEK_PIN_ENV_PREFIX}<NAME> (upper case), got "${pinEnv}".`);
    }
    const pin = env[pinEnv];
    if (!pin) throw invalid(`KEYWARD_KEK names pin-env=${pinEnv}, but ${pinEnv} is not set.`);
    return { provider: 'pkcs11', module, token, label, pin, uri: `pkcs11:${module}?token=${token}&label=${label}&pin-env=${pinEnv}` };
  }
  throw invalid(`KEYWARD_KEK must start with file: or pkcs11:, got "${uri.split(':')[0]}:".`);
}

const KEK_TARGET_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** Parses KEYWARD_KEK_TARGETS: `name=uri` entries separated by commas; every URI is checked now, PINs included. */
export function parseKekTargets(raw: string | undefined, env: Env = process.env): ReadonlyMap<string, KekSetting> {
  const targets = new Map<string, KekSetting>();
  for (const entry of (raw ?? '').split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const eq = entry.indexOf('=');
    const name = eq < 0 ? entry : entry.slice(0, eq);
    if (eq < 0 || !KEK_TARGET_NAME.test(name)) {
      throw invalid(`KEYWARD_KEK_TARGETS entries are name=uri with names of a-z, 0-9, _ and - (up to 32), got "${name}".`);
    }
    if (targets.has(name)) throw invalid(`KEYWARD_KEK_TARGETS names "${name}" twice.`);
    try {
      targets.set(name, parseKekUri(entry.slice(eq + 1), env));
    } catch (err) {
      throw invalid(`KEYWARD_KEK_TARGETS "${name}": ${(err as Error).message}`);
    }
  }
  return targets;
}

function logLevel(raw: string | undefined): LogLevel {
  const levels: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  if (raw === undefined || raw === '') return 'info';
  if (!(levels as string[]).includes(raw)) throw invalid(`KEYWARD_LOG_LEVEL must be one of ${levels.join(', ')}.`);
  return raw as LogLevel;
}

function revocationSetting(raw: string | undefined): 'required' | 'optional' {
  if (raw === undefined || raw === '' || raw === 'required') return 'required';
  if (raw === 'optional') return 'optional';
  throw invalid(`KEYWARD_REVOCATION must be required or optional, got "${raw}".`);
}

function onOff(env: Env, name: string, fallback: 'on' | 'off' = 'off'): boolean {
  const raw = (env[name] ?? fallback).toLowerCase();
  if (['on', 'true', '1', 'yes'].includes(raw)) return true;
  if (['off', 'false', '0', 'no', ''].includes(raw)) return false;
  throw invalid(`${name} must be on or off, got "${env[name]}".`);
}

function alertKinds(raw: string | undefined): ReadonlySet<AlertKindSetting> {
  if (raw === undefined || raw === '' || raw === 'all') return new Set(ALERT_KINDS);
  if (raw === 'off' || raw === 'none') return new Set();
  const kinds = raw.split(',').map((k) => k.trim()).filter((k) => k !== '');
  const unknown = kinds.filter((k) => !(ALERT_KINDS as readonly string[]).includes(k));
  if (unknown.length > 0) throw invalid(`KEYWARD_ALERTS must list kinds of ${ALERT_KINDS.join(', ')} (or all, off), got "${unknown.join(',')}".`);
  return new Set(kinds as AlertKindSetting[]);
}

function alertWebhook(env: Env): AlertWebhookSettings | undefined {
  const url = env['KEYWARD_ALERT_WEBHOOK'] || undefined;
  if (url === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid('KEYWARD_ALERT_WEBHOOK must be an http(s) URL.');
  }
  if (!/^https?:$/.test(parsed.protocol)) throw invalid('KEYWARD_ALERT_WEBHOOK must be an http(s) URL.');
  const secret = env['KEYWARD_ALERT_WEBHOOK_SECRET'] ?? '';
  // Why required: an unsigned alert could be forged by anyone who can reach the receiver.
  if (secret.length < MIN_ALERT_WEBHOOK_SECRET_LENGTH) {
    throw invalid(`KEYWARD_ALERT_WEBHOOK needs KEYWARD_ALERT_WEBHOOK_SECRET of at least ${MIN_ALERT_WEBHOOK_SECRET_LENGTH} characters (the alerts are signed with it).`);
  }
  return {
    url,
    secret,
    attempts: intSetting(env, 'KEYWARD_ALERT_WEBHOOK_ATTEMPTS', 5, 1, 20),
    backoffMs: intSetting(env, 'KEYWARD_ALERT_WEBHOOK_BACKOFF_MS', 1000, 10, 600_000),
    timeoutMs: intSetting(env, 'KEYWARD_ALERT_WEBHOOK_TIMEOUT_MS', 5000, 100, 60_000),
  };
}

function alertSettings(env: Env): AlertSettings {
  return {
    kinds: alertKinds(env['KEYWARD_ALERTS']),
    burst: {
      windowSeconds: intSetting(env, 'KEYWARD_ALERT_BURST_WINDOW', 60, 10, 86_400),
      baselineWindows: intSetting(env, 'KEYWARD_ALERT_BURST_BASELINE', 60, 1, 10_000),
      factor: intSetting(env, 'KEYWARD_ALERT_BURST_FACTOR', 10, 2, 1000),
      floor: intSetting(env, 'KEYWARD_ALERT_BURST_FLOOR', 30, 1, 1_000_000),
    },
    denials: {
      windowSeconds: intSetting(env, 'KEYWARD_ALERT_DENIAL_WINDOW', 300, 10, 86_400),
      threshold: intSetting(env, 'KEYWARD_ALERT_DENIAL_THRESHOLD', 5, 1, 1_000_000),
    },
    webhook: alertWebhook(env),
  };
}

/** Reads and validates the configuration; a bad setting is ERR_CONFIG_INVALID naming the variable. */
export function loadConfig(env: Env = process.env): Config {
  const dataDir = resolve(env['KEYWARD_DATA_DIR'] || '.keyward');
  const bootstrapToken = env['KEYWARD_BOOTSTRAP_TOKEN'] || undefined;
  if (bootstrapToken !== undefined && bootstrapToken.length < MIN_BOOTSTRAP_TOKEN_LENGTH) {
    throw invalid(`KEYWARD_BOOTSTRAP_TOKEN must be at least ${MIN_BOOTSTRAP_TOKEN_LENGTH} characters.`);
  }
  const databaseUrl = env['KEYWARD_DATABASE_URL'] || undefined;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw invalid('KEYWARD_DATABASE_URL must be a postgres:// URL.');
  }
  const pccsUrl = env['KEYWARD_PCCS_URL'] || undefined;
  if (pccsUrl !== undefined && !/^https?:\/\//.test(pccsUrl)) throw invalid('KEYWARD_PCCS_URL must be an http(s) URL.');
  const kdsUrl = env['KEYWARD_KDS_URL'] || undefined;
  if (kdsUrl !== undefined && !/^https?:\/\//.test(kdsUrl)) throw invalid('KEYWARD_KDS_URL must be an http(s) URL.');
  const workloadRateLimit = intSetting(env, 'KEYWARD_RATE_LIMIT', 1200, 0, 1_000_000);
  const port = intSetting(env, 'KEYWARD_PORT', DEFAULT_PORT, 0, 65535);
  const rpId = env['KEYWARD_RP_ID'] || 'localhost';
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(rpId)) throw invalid('KEYWARD_RP_ID must be a lowercase domain name.');
  const origin = env['KEYWARD_ORIGIN'] || `http://localhost:${port}`;
  let parsedOrigin: URL;
  try {
    parsedOrigin = new URL(origin);
  } catch {
    throw invalid('KEYWARD_ORIGIN must be an origin such as https://keyward.example.com.');
  }
  if (!/^https?:$/.test(parsedOrigin.protocol) || parsedOrigin.origin !== origin) {
    throw invalid('KEYWARD_ORIGIN must be an http(s) origin without path or trailing slash, such as https://keyward.example.com.');
  }
  const host = parsedOrigin.hostname;
  if (host !== rpId && !host.endsWith(`.${rpId}`)) throw invalid(`KEYWARD_ORIGIN's host must be KEYWARD_RP_ID (${rpId}) or a subdomain of it.`);
  return {
    rpId,
    origin,

    host: env['KEYWARD_HOST'] || DEFAULT_HOST,
    port,
    dataDir,
    databaseUrl,
    kek: parseKekUri(env['KEYWARD_KEK'] || `file:${join(dataDir, 'kek')}`, env),
    kekTargets: parseKekTargets(env['KEYWARD_KEK_TARGETS'], env),
    bootstrapToken,
    extraAnchorsDir: env['KEYWARD_EXTRA_ANCHORS'] ? resolve(env['KEYWARD_EXTRA_ANCHORS']) : undefined,
    logLevel: logLevel(env['KEYWARD_LOG_LEVEL']),
    bodyLimit: intSetting(env, 'KEYWARD_BODY_LIMIT', 1024 * 1024, 1024, 64 * 1024 * 1024),
    collateralFetch: onOff(env, 'KEYWARD_COLLATERAL_FETCH'),
    pccsUrl,
    kdsUrl,
    collateralDir: env['KEYWARD_COLLATERAL_DIR'] ? resolve(env['KEYWARD_COLLATERAL_DIR']) : undefined,
    nonceTtlSeconds: intSetting(env, 'KEYWARD_NONCE_TTL', 300, 10, 3600),
    attestationTokenTtlSeconds: intSetting(env, 'KEYWARD_ATTESTATION_TOKEN_TTL', 300, 10, 3600),
    workloadRateLimit,
    releaseLimits: {
      perKey: intSetting(env, 'KEYWARD_KEY_RATE_LIMIT', workloadRateLimit, 0, 1_000_000),
      perTenant: intSetting(env, 'KEYWARD_TENANT_RATE_LIMIT', Math.min(10 * workloadRateLimit, 10_000_000), 0, 10_000_000),
      perTee: intSetting(env, 'KEYWARD_TEE_RATE_LIMIT', workloadRateLimit, 0, 1_000_000),
    },
    failedAttemptLimit: intSetting(env, 'KEYWARD_FAILED_ATTEMPT_LIMIT', 60, 0, 1_000_000),
    policyMaxCost: intSetting(env, 'KEYWARD_POLICY_MAX_COST', 1_000_000, 1_000, Number.MAX_SAFE_INTEGER),
    policyTimeoutMs: intSetting(env, 'KEYWARD_POLICY_TIMEOUT_MS', 1000, 10, 60_000),
    auditCheckpointEvents: intSetting(env, 'KEYWARD_AUDIT_CHECKPOINT_EVENTS', 1000, 1, 10_000_000),
    auditCheckpointIntervalSeconds: intSetting(env, 'KEYWARD_AUDIT_CHECKPOINT_INTERVAL', 300, 1, 86_400),
    revocation: revocationSetting(env['KEYWARD_REVOCATION']),
    alerts: alertSettings(env),
    platformQuorum: intSetting(env, 'KEYWARD_PLATFORM_QUORUM', 1, 1, 16),
    releaseCache: onOff(env, 'KEYWARD_RELEASE_CACHE', 'on'),
  };
}

/** What the workload-side commands (`keyward agent`, `seal`, `unseal`) read from the environment. */
export interface AgentSettings {
  /** KEYWARD_DATA_DIR (default ./.keyward): where the simulator's development CA lives. */
  readonly dataDir: string;
  /** KEYWARD_TOKEN: an API token for `keyward seal`, so it need not appear on the command line. */
  readonly token: string | undefined;
}

/** Reads the workload commands' settings; unlike loadConfig it ignores (and never fails on) server settings. */
export function loadAgentSettings(env: Env = process.env): AgentSettings {
  return { dataDir: resolve(env['KEYWARD_DATA_DIR'] || '.keyward'), token: env['KEYWARD_TOKEN'] || undefined };
}

/** keyward's default address for the admin commands (`keyward serve`'s default listen address). */
export const DEFAULT_ADDRESS = `http://${DEFAULT_HOST}:${DEFAULT_PORT}`;

/** What the admin commands (`keyward login`, `key`, `policy`, ...) read from the environment. */
export interface AdminSettings {
  /** KEYWARD_ADDR (default http://127.0.0.1:8750): the server. */
  readonly address: string;
  /** KEYWARD_TOKEN: an API token; when set it overrides the one `keyward login` stored (as VAULT_TOKEN does). */
  readonly token: string | undefined;
  /** $XDG_CONFIG_HOME/keyward/credentials.json (default ~/.config/keyward/credentials.json). */
  readonly credentialsFile: string;
  /** KEYWARD_ORIGIN, when set: where people open the console (the relying party's origin). */
  readonly consoleOrigin?: string | undefined;
}

/** Reads the admin commands' settings; like loadAgentSettings it ignores the server's settings. */
export function loadAdminSettings(env: Env = process.env): AdminSettings {
  const configHome = env['XDG_CONFIG_HOME'] || join(env['HOME'] || homedir(), '.config');
  return {
    address: env['KEYWARD_ADDR'] || DEFAULT_ADDRESS,
    token: env['KEYWARD_TOKEN'] || undefined,
    credentialsFile: join(resolve(configHome), 'keyward', 'credentials.json'),
    consoleOrigin: env['KEYWARD_ORIGIN'] || undefined,
  };
}

/** Variables holding keyward secrets: never handed to commands the agent runs. */
const SECRET_VARIABLES = ['KEYWARD_TOKEN', 'KEYWARD_BOOTSTRAP_TOKEN', 'KEYWARD_ALERT_WEBHOOK_SECRET'];

/** The environment for a command the agent runs (the GPU evidence command): its own, minus keyward's secrets. */
export function commandEnvironment(env: Env = process.env): Readonly<Record<string, string | undefined>> {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !SECRET_VARIABLES.includes(name)));
}
