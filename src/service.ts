// Wires keyward together: configuration → database (PGlite or Postgres) → migrations → KEKs → broker →
// HTTP. `keyward serve` and the tests both build the service here.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { JWK } from 'jose';
import { systemClock, type Clock } from './clock.js';
import { parseKekUri, type Config, type KekSetting } from './config.js';
import { RequestError, ServiceError } from './errors.js';
import { createLogger, type Logger } from './log.js';
import { openDatabase, type Database, type Db } from './store/database.js';
import { countPlatformAdminsWithPasskey } from './store/tenants-repo.js';
import { migrate } from './store/migrate.js';
import { openKek, type Kek, type KekConfig, type KekRing } from './keys/kek.js';
import { initKeks, kekStatus, nextKekUri } from './broker/kek-admin.js';
import { KekRotation, type KekTargets } from './broker/kek-rotation.js';
import { Vault } from './broker/vault.js';
import { Tokens } from './broker/api-tokens.js';
import { ImportKeys } from './broker/import-keys.js';
import { KeyImports } from './broker/key-imports.js';
import { MemberChanges } from './broker/member-changes.js';
import { AuditLog } from './broker/audit-log.js';
import { AuditCheckpoints } from './broker/audit-checkpoints.js';
import { AuditExporter } from './broker/audit-export.js';
import { Health } from './broker/health.js';
import { CollateralBroker } from './broker/collateral.js';
import type { CollateralFetchers } from './broker/collateral-fetch.js';
import { AmdKdsClient } from './collateral/amd-kds.js';
import { IntelPcsClient } from './collateral/intel-pcs.js';
import { PostgresCollateralCache } from './collateral/postgres-cache.js';
import { readCollateralDirectory } from './collateral/directory.js';
import { createTrustAnchors } from './evidence/anchors.js';
import { parseCertificates } from './evidence/pki.js';
import type { TrustAnchors } from './evidence/types.js';
import { createHttpApp } from './http/app.js';
import { loadOpenApi } from './http/openapi.js';
import { registerKeyRoutes } from './http/routes/keys.js';
import { registerSystemRoutes } from './http/routes/system.js';
import { registerAdminRoutes } from './http/routes/admin.js';
import { registerReleaseRoutes } from './http/routes/release.js';
import { registerPolicyRoutes } from './http/routes/policies.js';
import { registerEvidenceRoutes } from './http/routes/evidence.js';
import { AttestationTokens } from './broker/attestation-tokens.js';
import { Policies } from './broker/policies.js';
import { PolicySandbox } from './broker/policy-sandbox.js';
import { ReleaseService } from './broker/release.js';
import { ReleaseCache, RELEASE_CACHE_DEFAULTS } from './broker/release-cache.js';
import { loadNonceSecret, StatelessNonces } from './broker/nonces.js';
import { loadRowMac } from './broker/row-mac.js';
import { createVerificationSource } from './broker/verification.js';
import { RateLimits } from './broker/rate-limit.js';
import { LruMemo } from './evidence/memo.js';
import { registerCollateralRoutes } from './http/routes/collateral.js';
import { registerKekRoutes } from './http/routes/kek.js';
import { registerConsoleRoutes } from './http/routes/console.js';
import { loadConsoleAssets } from './admin/console-assets.js';
import { registerTenantRoutes } from './http/routes/tenants.js';
import { Tenants } from './broker/tenants.js';
import { Approvals } from './broker/approvals.js';
import { ReleaseReport } from './broker/release-report.js';
import { Sessions } from './admin/sessions.js';
import { Passkeys } from './admin/passkeys.js';
import { registerAuthRoutes } from './http/routes/auth.js';
import { registerApprovalRoutes } from './http/routes/approvals.js';
import { ApprovalSigning } from './admin/approval-signing.js';
import { Alerts } from './broker/alerts.js';
import { registerAlertRoutes } from './http/routes/alerts.js';

export interface KeywardOptions {
  readonly config: Config;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** An already-open database (tests pass a migrated template); otherwise opened from the config. */
  readonly database?: Database;
}

export interface Keyward {
  readonly app: FastifyInstance;
  readonly database: Database;
  readonly keks: KekRing;
  readonly vault: Vault;
  readonly tokens: Tokens;
  readonly policies: Policies;
  /** Where policy decisions run: inline when cheap, otherwise in a time- and memory-limited process. */
  readonly policySandbox: PolicySandbox;
  readonly release: ReleaseService;
  readonly attestationTokens: AttestationTokens;
  /** Signed audit checkpoints (written by a timer; `runDue()` writes one now when due). */
  readonly auditCheckpoints: AuditCheckpoints;
  readonly anchors: TrustAnchors;
  /** Held (and, when enabled, fetched) collateral: `collateral.collateralFor(items, now)` for the verifiers. */
  readonly collateral: CollateralBroker;
  readonly logger: Logger;
  /** Set once this start created the bootstrap admin token from a generated secret (at listen()). */
  readonly bootstrapToken: string | undefined;
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** How often (seconds, at most) replicas look whether an audit checkpoint is due. */
const CHECKPOINT_TICK_S = 5;

export function kekConfigFor(setting: KekSetting, create: boolean): KekConfig {
  return { ...setting, create };
}

/**
 * Consumed nonces are kept this long past their expiry before the sweep forgets them (the clock skew
 * allowed around the database's clock, e.g. across a failover to a standby).
 */
const NONCE_PURGE_SKEW_SECONDS = 300;

/** PKCS#11 modules the configuration names (KEYWARD_KEK and KEYWARD_KEK_TARGETS): the only ones ever loaded. */
function configuredModules(config: Config): Set<string> {
  return new Set([config.kek, ...config.kekTargets.values()].flatMap((k) => (k.provider === 'pkcs11' ? [k.module] : [])));
}

/**
 * Opens KEKs named in the keks table (URIs there never hold secrets; the PIN comes from its pin-env). Why
 * the module check: the database is not trusted with authority, so a URI written there can name only a
 * PKCS#11 module the configuration already names, and a PIN variable with the KEK PIN prefix.
 */
export function kekOpenerFor(config: Config): (uri: string) => Promise<Kek> {
  const modules = configuredModules(config);
  const configured = new Map([config.kek, ...config.kekTargets.values()].flatMap((k) => (k.provider === 'pkcs11' ? [[k.uri, k] as const] : [])));
  return async (uri) => {
    const module = uri.startsWith('pkcs11:') ? uri.slice('pkcs11:'.length).split('?')[0] ?? '' : undefined;
    if (module !== undefined && !modules.has(module)) {
      throw new ServiceError('ERR_KEK_CONFIG_INVALID', `The database names a KEK in PKCS#11 module ${module}, which neither KEYWARD_KEK nor KEYWARD_KEK_TARGETS names.`);
    }
    return openKek(kekConfigFor(configured.get(uri) ?? parseKekUri(uri), false));
  };
}

/**
 * The KEK a rotation moves to: the configured target `name`, or (no name) a new file next to the active
 * file KEK, or a new key label on the active PKCS#11 token. Unknown names are refused before anything opens.
 */
export function rotationTarget(config: Config, active: Kek, name: string | undefined, now: Date): KekSetting {
  if (name === undefined) return parseKekUri(nextKekUri(active, now));
  const target = config.kekTargets.get(name);
  if (!target) {
    const known = [...config.kekTargets.keys()];
    throw new RequestError('ERR_KEK_TARGET_UNKNOWN', `No KEK rotation target is named "${name}"${known.length > 0 ? ` (configured: ${known.join(', ')})` : ' (KEYWARD_KEK_TARGETS is empty)'}.`);
  }
  return target;
}

function kekSettingUri(setting: KekSetting): string {
  return setting.provider === 'file' ? `file:${setting.path}` : setting.uri;
}

/** Rotation targets from the configuration, for KEK rotations approved under the platform quorum. */
export function kekTargetsOf(config: Config): KekTargets {
  return {
    uriOf: (target, active, at) => kekSettingUri(rotationTarget(config, active, target, at)),
    open: (target, active, at) => openKek(kekConfigFor(rotationTarget(config, active, target, at), true)),
  };
}

/** A JWK set (`{"keys": [...]}`) in KEYWARD_EXTRA_ANCHORS, or undefined when the file is not JSON of that shape. */
function jwkSetOf(bytes: Uint8Array): JWK[] | undefined {
  const text = Buffer.from(bytes).toString('utf8').trim();
  if (!text.startsWith('{')) return undefined;
  try {
    const keys = (JSON.parse(text) as { keys?: unknown }).keys;
    return Array.isArray(keys) ? (keys as JWK[]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads KEYWARD_EXTRA_ANCHORS: every PEM/DER certificate in the directory becomes an extra root, every JWK
 * set (e.g. NVIDIA's NRAS JWKS) an extra signer of NRAS results. Nothing else is ever trusted from files.
 */
export function loadExtraAnchors(dir: string | undefined): TrustAnchors {
  if (!dir) return createTrustAnchors([]);
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile());
  } catch (cause) {
    throw new ServiceError('ERR_CONFIG_INVALID', `KEYWARD_EXTRA_ANCHORS=${dir} is not a readable directory.`, { cause });
  }
  const ders: Uint8Array[] = [];
  const signingKeys: JWK[] = [];
  for (const file of files.sort()) {
    const bytes = new Uint8Array(readFileSync(join(dir, file)));
    const keys = jwkSetOf(bytes);
    try {
      if (keys) signingKeys.push(...keys);
      else ders.push(...parseCertificates(bytes).map((c) => c.der));
    } catch (cause) {
      throw new ServiceError('ERR_CONFIG_INVALID', `KEYWARD_EXTRA_ANCHORS: ${file} is neither a certificate nor a JWK set.`, { cause });
    }
  }
  // Why refuse: a folder without roots would start "fine" and then fail every release as untrusted.
  if (ders.length === 0 && signingKeys.length === 0) {
    const below = readdirSync(dir).filter((f) => statSync(join(dir, f)).isDirectory() && readdirSync(join(dir, f)).some((g) => /\.(pem|crt|cer|der)$/i.test(g)));
    const hint = below.length > 0 ? ` ${join(dir, below[0] ?? '')} does: set KEYWARD_EXTRA_ANCHORS=${join(dir, below[0] ?? '')}.` : ' put the PEM roots to trust directly in it.';
    throw new ServiceError('ERR_CONFIG_INVALID', `KEYWARD_EXTRA_ANCHORS=${dir} holds no certificate;${hint}`);
  }
  try {
    return createTrustAnchors(ders, { signingKeys });
  } catch (cause) {
    throw new ServiceError('ERR_CONFIG_INVALID', 'KEYWARD_EXTRA_ANCHORS holds a key that cannot be trusted (a JWK without kid, or a private key).', { cause });
  }
}

/** Warns, at start, about every setting that widens what keyward trusts: extra anchors, optional revocation. */
function logTrustSettings(config: Config, anchors: TrustAnchors, logger: Logger): void {
  const extra = anchors.all.filter((a) => a.source === 'extra');
  if (extra.length > 0) {
    logger.warn(
      { extraAnchors: extra.map((a) => ({ name: a.name, spki: a.spkiSha256, roles: a.roles.length > 1 ? 'all' : a.roles[0] })), dir: config.extraAnchorsDir },
      'EXTRA TRUST ANCHORS CONFIGURED: evidence chaining to these roots is accepted (claims say anchor.source="extra"); never use this in production unless you mean it',
    );
  }
  if (config.revocation === 'optional') {
    logger.warn(
      { revocation: 'optional' },
      'REVOCATION CHECKS ARE OPTIONAL (KEYWARD_REVOCATION=optional): evidence whose certificates have no current CRL or OCSP answer is accepted with revocationChecked=false and audited; a revoked chip or key could pass',
    );
  }
}

/** Calls `fn` at most once per `intervalMs` per distinct argument (log lines on hot paths). */
function throttled<A>(intervalMs: number, clock: Clock, fn: (arg: A) => void): (arg: A) => void {
  const last = new Map<string, number>();
  return (arg) => {
    const key = JSON.stringify(arg);
    const now = clock.now().getTime();
    if ((last.get(key) ?? -Infinity) + intervalMs > now) return;
    last.set(key, now);
    if (last.size > 1000) last.clear();
    fn(arg);
  };
}

/** AMD KDS only with KEYWARD_COLLATERAL_FETCH=on, Intel PCS/PCCS only with KEYWARD_PCCS_URL; both cache in Postgres. */
export function collateralFetchers(config: Config, cache: PostgresCollateralCache, clock: Clock): CollateralFetchers {
  return {
    ...(config.collateralFetch ? { kds: new AmdKdsClient({ cache, clock, ...(config.kdsUrl ? { baseUrl: config.kdsUrl } : {}) }) } : {}),
    ...(config.pccsUrl ? { pcs: new IntelPcsClient({ baseUrl: config.pccsUrl, cache, clock }) } : {}),
  };
}

/** Stores KEYWARD_COLLATERAL_DIR's collateral (source 'dir') and logs what was loaded and what was skipped. */
export async function loadCollateralDirectory(collateral: CollateralBroker, dir: string, logger: Logger): Promise<void> {
  const { files, tooLarge } = readCollateralDirectory(dir);
  const { stored, skipped } = await collateral.loadFiles(files);
  logger.info(
    {
      dir,
      items: stored.length,
      added: stored.filter((i) => !i.duplicate).length,
      loaded: stored.slice(0, 100).map((i) => `${i.kind}: ${i.label}${i.stale ? ' (stale)' : ''}`),
      skipped: [...skipped, ...tooLarge],
    },
    'collateral directory loaded',
  );
}

/** Says at start when KEYWARD_PLATFORM_QUORUM cannot be met yet: platform changes are refused until it can. */
async function logPlatformQuorum(db: Db, quorum: number, logger: Logger): Promise<void> {
  if (quorum <= 1) return;
  const admins = await countPlatformAdminsWithPasskey(db);
  const fields = { platformQuorum: quorum, platformAdminsWithPasskey: admins };
  if (admins < quorum) logger.warn(fields, 'KEYWARD_PLATFORM_QUORUM exceeds the platform admins holding a passkey: KEK rotation and trusting signers are refused (ERR_PLATFORM_QUORUM_UNREACHABLE) until more enrol');
  else logger.info(fields, 'platform changes need the platform quorum');
}

export async function createKeyward(opts: KeywardOptions): Promise<Keyward> {
  const { config } = opts;
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? createLogger(config.logLevel);
  const anchors = loadExtraAnchors(config.extraAnchorsDir);
  const database =
    opts.database ??
    (await openDatabase(
      config.databaseUrl ? { kind: 'postgres', url: config.databaseUrl } : { kind: 'pglite', dataDir: join(config.dataDir, 'pgdata') },
    ));
  let keks: KekRing | undefined;
  const sandboxes: PolicySandbox[] = [];
  let startedCache: ReleaseCache | undefined;
  try {
    const { applied } = await migrate(database);
    logger.info({ database: database.description, kind: database.kind, migrationsApplied: applied }, 'database ready');

    const configured = await openKek(kekConfigFor(config.kek, true));
    keks = await initKeks(database.db, configured, kekOpenerFor(config), clock, logger);
    logger.info({ provider: keks.active.provider, kek: keks.active.id, uri: keks.active.uri }, 'KEK ready');

    logTrustSettings(config, anchors, logger);

    // After migrations and the KEK: the starts that apply 0015 and 0016 MAC the rows that exist (once).
    const rowMac = await loadRowMac(database.db, keks, clock, logger, { authority: applied.some((m) => m.startsWith('0015')), people: applied.some((m) => m.startsWith('0016')) });
    const tokens = new Tokens(database.db, clock, rowMac);
    const importKeys = new ImportKeys(database.db, keks, clock);
    const approvals = new Approvals(database.db, clock, rowMac, config.platformQuorum);
    await logPlatformQuorum(database.db, config.platformQuorum, logger);
    const vault = new Vault(database.db, keks, clock, importKeys, approvals);
    const auditLog = new AuditLog(database.db);
    const auditCheckpoints = new AuditCheckpoints(database.db, keks, clock, { everyEvents: config.auditCheckpointEvents, intervalSeconds: config.auditCheckpointIntervalSeconds });
    const health = new Health(database, keks);
    const collateral = new CollateralBroker(database.db, clock, {
      fetchers: collateralFetchers(config, new PostgresCollateralCache(database.db, clock), clock),
      logger,
    });
    if (config.collateralDir) await loadCollateralDirectory(collateral, config.collateralDir, logger);
    if (collateral.fetching) logger.info({ kds: config.collateralFetch, pccs: config.pccsUrl ?? null }, 'collateral fetching enabled');

    // A preset bootstrap token is created now; a generated one only once the server listens, so a start
    // that fails to bind (port taken) does not mint a secret nobody could read (listen() does it).
    let bootstrapToken: string | undefined;
    const bootstrap = async (): Promise<void> => {
      const boot = await tokens.bootstrap(config.bootstrapToken);
      if (!boot.created) return;
      bootstrapToken = boot.secret;
      if (boot.secret) {
        logger.info({ bootstrapAdminToken: boot.secret, tokenId: boot.tokenId }, 'created the bootstrap admin token (shown only this once; it stays valid until revoked)');
      } else {
        logger.info({ tokenId: boot.tokenId }, 'created the bootstrap admin token from KEYWARD_BOOTSTRAP_TOKEN');
      }
    };
    if (config.bootstrapToken !== undefined) await bootstrap();

    const sandbox = new PolicySandbox({ timeoutMs: config.policyTimeoutMs });
    sandboxes.push(sandbox);
    const policies = new Policies(database.db, clock, { maxCost: config.policyMaxCost, sandbox }, approvals, rowMac);
    const attestationTokens = new AttestationTokens(database.db, keks, clock, { ttlSeconds: config.attestationTokenTtlSeconds });
    const memo = new LruMemo(50_000);
    const verification = createVerificationSource({ anchors, collateral, memo, revocation: config.revocation });
    const rateLimits = new RateLimits(database.db, clock);
    const alerts = new Alerts(clock, approvals, config.alerts, logger);
    rowMac.onMismatch = () => alerts.countRowMacMismatch();
    const releaseCache = new ReleaseCache(clock, { enabled: config.releaseCache, ...RELEASE_CACHE_DEFAULTS });
    startedCache = releaseCache;
    await releaseCache.start(database, logger);
    const release = new ReleaseService({
      cache: releaseCache,
      db: database.db,
      clock,
      verification,
      tokens: attestationTokens,
      policies,
      vault,
      nonces: new StatelessNonces(await loadNonceSecret(database.db, keks, clock), clock, config.nonceTtlSeconds),
      nonceSkewSeconds: NONCE_PURGE_SKEW_SECONDS,
      rateLimits: { limits: rateLimits, defaults: config.releaseLimits },
      alerts,
      onExtraAnchor: throttled(60_000, clock, (names: string[]) =>
        logger.warn({ anchors: names }, 'accepted evidence chaining to NON-VENDOR trust anchors (extra: simulated or private PKI; uploaded: trusted by an admin), not to vendor roots'),
      ),
    });
    const limits = { limits: rateLimits, perClient: config.workloadRateLimit, failuresPerClient: config.failedAttemptLimit };

    const openapi = loadOpenApi();
    const sessions = new Sessions(database.db, clock, rowMac);
    const sessionSecret = await Sessions.signingSecret(database.db, keks, clock);
    const http = createHttpApp({ logger, openapi, tokens, bodyLimit: config.bodyLimit, sessions, sessionSecret, origin: config.origin });
    registerSystemRoutes(http, health, http.metrics, openapi);
    alerts.registerMetrics(http.metrics);
    releaseCache.registerMetrics(http.metrics);
    registerAlertRoutes(http, alerts);
    registerKeyRoutes(http, vault, importKeys, new ReleaseReport(database.db, vault), new KeyImports(database.db, clock, vault, importKeys));
    registerAdminRoutes(http, tokens, { log: auditLog, exporter: new AuditExporter(database.db, clock), checkpoints: auditCheckpoints });
    const tenants = new Tenants(database.db, clock, tokens, approvals);
    registerTenantRoutes(http, tenants, new MemberChanges(clock, tokens, approvals));
    const passkeys = new Passkeys(database.db, clock, { rpId: config.rpId, origin: config.origin, name: 'keyward' }, sessions, tokens, rowMac);
    registerAuthRoutes(http, { passkeys, sessions, tenants, origin: config.origin });
    registerApprovalRoutes(http, approvals, new ApprovalSigning(database.db, approvals, passkeys));
    registerPolicyRoutes(http, policies, release);
    registerReleaseRoutes(http, release, attestationTokens, limits);
    registerEvidenceRoutes(http, { verification, clock });
    registerCollateralRoutes(http, collateral, openapi);
    registerConsoleRoutes(http, loadConsoleAssets());
    collateral.registerOperations(approvals);
    const kekRotation = new KekRotation(database.db, keks, clock, kekTargetsOf(config), approvals);
    registerKekRoutes(http, {
      status: () => kekStatus(database.db),
      targets: () => [...config.kekTargets].map(([name, setting]) => ({ name, uri: kekSettingUri(setting) })),
      rotate: (ctx, target) => kekRotation.rotate(ctx, target),
    });
    await http.app.ready();
    const sweeper = setInterval(() => {
      release.sweepNonces().catch((err: unknown) => logger.warn({ err }, 'nonce sweep failed'));
      rateLimits.purge().catch((err: unknown) => logger.warn({ err }, 'rate counter purge failed'));
      alerts.purge(database.db).catch((err: unknown) => logger.warn({ err }, 'alert counter purge failed'));
      vault.sweepScheduledDestruction().catch((err: unknown) => logger.warn({ err }, 'scheduled destruction sweep failed'));
    }, 60_000);
    sweeper.unref();
    // Checked often; a checkpoint is written only when due (KEYWARD_AUDIT_CHECKPOINT_EVENTS / _INTERVAL).
    const checkpointer = setInterval(() => {
      auditCheckpoints.runDue().catch((err: unknown) => logger.warn({ err }, 'audit checkpoint failed'));
    }, Math.min(config.auditCheckpointIntervalSeconds, CHECKPOINT_TICK_S) * 1000);
    checkpointer.unref();

    const ring = keks;
    let closed = false;
    return {
      app: http.app,
      database,
      keks: ring,
      vault,
      tokens,
      policies,
      policySandbox: sandbox,
      release,
      attestationTokens,
      auditCheckpoints,
      anchors,
      collateral,
      logger,
      get bootstrapToken() {
        return bootstrapToken;
      },
      async listen() {
        const address = await http.app.listen({ host: config.host, port: config.port });
        if (config.bootstrapToken === undefined) await bootstrap();
        logger.info({ address, database: database.description, kek: ring.active.uri }, 'keyward listening');
        return address;
      },
      async close() {
        if (closed) return;
        closed = true;
        clearInterval(sweeper);
        clearInterval(checkpointer);
        alerts.close();
        await releaseCache.close();
        await http.app.close();
        await sandbox.close();
        await ring.close();
        if (!opts.database) await database.close();
      },
    };
  } catch (err) {
    for (const sandbox of sandboxes) await sandbox.close();
    await startedCache?.close();
    await keks?.close();
    if (!opts.database) await database.close().catch(() => undefined);
    throw err;
  }
}
