// Anomaly alerts, an extraction defence (docs/operations.md "Anomaly alerts"): a release to a TEE identity
// never seen for the key, a burst of releases above the key's recent baseline, repeated denials of one TEE
// identity. Each alert is an audit event `alert.<kind>` written in the caller's transaction (or one of its
// own), a metric, and — once committed — a signed webhook POST. A key whose owner turned `alertHold` on is
// held by a release alert: releases are refused (ERR_KEY_HELD) until an owner lifts the hold.
//
// The release path calls `afterRelease` / `afterDenial` once its audit row is written and `publish()` on
// the result once that transaction committed. Given a database handle that is not a transaction, the
// alert rows commit in a transaction of their own, and a failure there is logged and counted, never
// turned into a failed release.
import { randomUUID } from 'node:crypto';
import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import { RequestError } from '../errors.js';
import { isUuid } from '../encoding.js';
import type { Db } from '../store/database.js';
import * as repo from '../store/alerts-repo.js';
import { findKeyById, type KeyRow } from '../store/keys-repo.js';
import { appendAudit, type Actor } from './audit.js';
import { assertTenantScope } from './api-tokens.js';
import { stale, type Approvals, type Performed, type SensitiveOperation } from './approvals.js';
import { teeIdentities } from './rate-limit.js';
import { toKeyMetadata, type KeyMetadata, type RequestContext } from './vault.js';
import { AlertWebhook, type DeliveryResult, type WebhookLogger, type WebhookSettings } from './alert-webhook.js';

export type AlertKind = 'new-tee-identity' | 'release-burst' | 'repeated-denials';

/** Alert kinds that hold a key with alertHold on. Why not repeated-denials: any attested stranger could then lock a key's rightful workloads out. */
const HOLDING_KINDS: ReadonlySet<AlertKind> = new Set(['new-tee-identity', 'release-burst']);

export interface AlertOptions {
  readonly kinds: ReadonlySet<AlertKind>;
  readonly burst: { readonly windowSeconds: number; readonly baselineWindows: number; readonly factor: number; readonly floor: number };
  readonly denials: { readonly windowSeconds: number; readonly threshold: number };
  readonly webhook: WebhookSettings | undefined;
}

/** A release the release path has just audited. */
export interface ReleaseOutcome {
  readonly keyId: string;
  readonly tenant: string;
  /** The verified attestation token's claims (`cpu`, `gpus`, ...). */
  readonly payload: Readonly<Record<string, unknown>>;
  /** The TEE key's thumbprint. */
  readonly jkt: string;
  readonly releaseId: string;
  readonly requestId: string | null;
}

/** A denial the release path has just audited. */
export interface DenialOutcome {
  readonly keyId: string;
  readonly tenant: string;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly jkt: string;
  /** The code the workload was told. */
  readonly code: string;
  readonly requestId: string | null;
  /** The client address, when the caller knows it: also counted, as `source:<address>`. */
  readonly source?: string;
}

/** One raised alert: what the audit row records and the webhook receives. */
export interface Alert {
  readonly id: string;
  readonly kind: `alert.${AlertKind}`;
  readonly at: string;
  readonly tenant: string;
  readonly keyId: string;
  /** Whether this alert put the key on hold. */
  readonly held: boolean;
  readonly details: Readonly<Record<string, unknown>>;
}

/** Alerts raised in a transaction: `publish()` them (metric, webhook) once it has committed. */
export interface RaisedAlerts {
  readonly alerts: readonly Alert[];
  publish(): void;
}

export interface AlertLogger extends WebhookLogger {
  error(obj: object, msg: string): void;
}

interface Detected {
  readonly kind: AlertKind;
  readonly details: Record<string, unknown>;
}

const SYSTEM: Actor = { id: 'system', name: 'keyward' };
const NONE: RaisedAlerts = { alerts: [], publish: () => undefined };

function windowStart(now: Date, seconds: number): Date {
  const ms = seconds * 1000;
  return new Date(Math.floor(now.getTime() / ms) * ms);
}

/** Refuses the release of a held key. */
export function assertNotHeld(row: Pick<KeyRow, 'heldAt'>): void {
  if (row.heldAt) throw new RequestError('ERR_KEY_HELD', 'An anomaly alert put the key on hold; an owner must lift the hold before it is released again.');
}

export class Alerts {
  private readonly raised = new Counter({ name: 'keyward_alerts_total', help: 'Anomaly alerts raised, by kind.', labelNames: ['kind'], registers: [] });
  private readonly deliveries = new Counter({
    name: 'keyward_alert_webhook_deliveries_total',
    help: 'Alert webhook outcomes: delivered, retried (an attempt failed, another follows), failed (gave up), dropped (backlog full).',
    labelNames: ['result'],
    registers: [],
  });
  private readonly errors = new Counter({ name: 'keyward_alert_errors_total', help: 'Alert checks that failed (the release or denial itself stood).', registers: [] });
  private readonly webhook: AlertWebhook | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly approvals: Approvals,
    private readonly opts: AlertOptions,
    private readonly logger: AlertLogger,
  ) {
    this.approvals.register(this.liftOperation());
    this.webhook = opts.webhook ? new AlertWebhook(opts.webhook, clock, logger, (r: DeliveryResult) => this.deliveries.inc({ result: r })) : undefined;
    // Every series exists from the start (at 0), so rules over them see a rise rather than an appearance.
    for (const kind of ['new-tee-identity', 'release-burst', 'repeated-denials', 'row-mac-mismatch']) this.raised.inc({ kind: `alert.${kind}` }, 0);
    for (const result of ['delivered', 'retried', 'failed', 'dropped']) this.deliveries.inc({ result }, 0);
  }

  /** Adds the alert metrics to the service's registry (served at /metrics). */
  /** A security row whose MAC failed (row-mac.ts): counted with the anomaly alerts. */
  countRowMacMismatch(): void {
    this.raised.inc({ kind: 'alert.row-mac-mismatch' });
  }

  registerMetrics(registry: Registry): void {
    registry.registerMetric(this.raised);
    registry.registerMetric(this.deliveries);
    registry.registerMetric(this.errors);
  }

  /** Checks a release for a new TEE identity and a burst; holds the key when it asks for that. */
  async afterRelease(db: Db, outcome: ReleaseOutcome): Promise<RaisedAlerts> {
    if (!this.opts.kinds.has('new-tee-identity') && !this.opts.kinds.has('release-burst')) return NONE;
    return this.raise(db, outcome, async (trx, now) => [...(await this.newIdentity(trx, outcome, now)), ...(await this.burst(trx, outcome, now))]);
  }

  /** Counts a denial against each TEE identity it came from (and its source address, if known). */
  async afterDenial(db: Db, outcome: DenialOutcome): Promise<RaisedAlerts> {
    if (!this.opts.kinds.has('repeated-denials')) return NONE;
    return this.raise(db, outcome, (trx, now) => this.repeatedDenials(trx, outcome, now));
  }

  private async raise(db: Db, outcome: { keyId: string; tenant: string; requestId: string | null }, detect: (trx: Db, now: Date) => Promise<Detected[]>): Promise<RaisedAlerts> {
    const run = async (trx: Db): Promise<Alert[]> => {
      const now = this.clock.now();
      const found = await detect(trx, now);
      return found.length === 0 ? [] : this.record(trx, outcome, found, now);
    };
    if (db.isTransaction) return this.batch(await run(db));
    try {
      return this.batch(await db.transaction().execute(run));
    } catch (err) {
      // Why swallowed: the release or denial is already audited and decided; a failed check must not undo it.
      this.errors.inc();
      this.logger.error({ err, keyId: outcome.keyId }, 'anomaly alert check failed; the release or denial stands');
      return NONE;
    }
  }

  /** Audits each alert and, for release alerts of a key with alertHold on, holds the key (audited too). */
  private async record(trx: Db, o: { keyId: string; tenant: string; requestId: string | null }, found: readonly Detected[], now: Date): Promise<Alert[]> {
    const holding = found.find((d) => HOLDING_KINDS.has(d.kind));
    const held = holding ? await repo.holdKey(trx, o.keyId, holding.kind, now) : undefined;
    const alerts: Alert[] = [];
    for (const d of found) {
      const alert: Alert = { id: randomUUID(), kind: `alert.${d.kind}`, at: now.toISOString(), tenant: o.tenant, keyId: o.keyId, held: held !== undefined && d === holding, details: d.details };
      await appendAudit(trx, { actor: SYSTEM, action: alert.kind, target: o.keyId, outcome: 'success', requestId: o.requestId, details: { tenant: o.tenant, alertId: alert.id, held: alert.held, ...d.details } }, now);
      alerts.push(alert);
    }
    if (held && holding) {
      const alertId = alerts.find((a) => a.held)?.id;
      await appendAudit(trx, { actor: SYSTEM, action: 'key.hold', target: o.keyId, outcome: 'success', requestId: o.requestId, details: { tenant: o.tenant, alert: `alert.${holding.kind}`, alertId } }, now);
    }
    return alerts;
  }

  private batch(alerts: Alert[]): RaisedAlerts {
    if (alerts.length === 0) return NONE;
    let published = false;
    return {
      alerts,
      publish: () => {
        if (published) return;
        published = true;
        for (const a of alerts) {
          this.raised.inc({ kind: a.kind });
          this.logger.warn({ alertId: a.id, kind: a.kind, keyId: a.keyId, tenant: a.tenant, held: a.held }, 'anomaly alert');
          this.webhook?.send(a.id, { ...a });
        }
      },
    };
  }

  /** The TEE identities of this release that the key was never released to before (one alert for all of them). */
  private async newIdentity(trx: Db, o: ReleaseOutcome, now: Date): Promise<Detected[]> {
    if (!this.opts.kinds.has('new-tee-identity')) return [];
    const fresh = await repo.recordReleaseIdentities(trx, o.keyId, teeIdentities(o.payload), now);
    return fresh.length === 0 ? [] : [{ kind: 'new-tee-identity', details: { identities: fresh, jkt: o.jkt, releaseId: o.releaseId } }];
  }

  /**
   * Releases of the key in this window above max(floor, factor × its average per window over the baseline
   * windows before). Raised once per window: exactly one increment (on any replica) reaches threshold + 1.
   */
  private async burst(trx: Db, o: ReleaseOutcome, now: Date): Promise<Detected[]> {
    if (!this.opts.kinds.has('release-burst')) return [];
    const b = this.opts.burst;
    const ref = { tenantId: o.tenant, scope: 'releases', subject: o.keyId } as const;
    const start = windowStart(now, b.windowSeconds);
    const before = await repo.sumAlertCounter(trx, ref, new Date(start.getTime() - b.baselineWindows * b.windowSeconds * 1000), start);
    const baseline = before / b.baselineWindows;
    const threshold = Math.max(b.floor, Math.ceil(b.factor * baseline));
    const count = await repo.incrementAlertCounter(trx, ref, start);
    if (count !== threshold + 1) return [];
    return [{ kind: 'release-burst', details: { count, threshold, baselinePerWindow: Math.round(baseline * 100) / 100, windowSeconds: b.windowSeconds, windowStart: start.toISOString(), releaseId: o.releaseId } }];
  }

  /** Denials of one TEE identity (the TEE key's thumbprint when the claims name none) reaching the threshold in a window. */
  private async repeatedDenials(trx: Db, o: DenialOutcome, now: Date): Promise<Detected[]> {
    const d = this.opts.denials;
    const ids = teeIdentities(o.payload);
    const subjects = [...(ids.length > 0 ? ids : [`jkt:${o.jkt}`]), ...(o.source ? [`source:${o.source}`] : [])];
    const start = windowStart(now, d.windowSeconds);
    const out: Detected[] = [];
    for (const subject of subjects) {
      const count = await repo.incrementAlertCounter(trx, { tenantId: o.tenant, scope: 'denials', subject }, start);
      if (count === d.threshold) out.push({ kind: 'repeated-denials', details: { identity: subject, count, windowSeconds: d.windowSeconds, windowStart: start.toISOString(), code: o.code, jkt: o.jkt } });
    }
    return out;
  }

  /** Lifts a key's hold; under the tenant's quorum. */
  async liftHold(ctx: RequestContext, keyId: string): Promise<Performed<KeyMetadata>> {
    return this.approvals.perform(ctx, 'key.lift-hold', { id: keyId });
  }

  private liftOperation(): SensitiveOperation<{ id: string }, KeyMetadata> {
    return {
      name: 'key.lift-hold',
      describe: async (trx, ctx, { id }) => {
        const row = isUuid(id) ? await findKeyById(trx, id, { forUpdate: true }) : undefined;
        if (!row) throw new RequestError('ERR_KEY_NOT_FOUND', 'No key with this id exists.');
        assertTenantScope(ctx.actor, row.tenant, 'keys:write');
        if (!row.heldAt) throw new RequestError('ERR_KEY_NOT_HELD', 'The key is not on hold.');
        return { tenant: row.tenant, target: row.id, from: { heldAt: row.heldAt.toISOString(), heldBy: row.heldBy }, to: { held: false } };
      },
      apply: async (trx, change, actx) => {
        const from = change.from as { heldAt: string; heldBy: string };
        const at = this.clock.now();
        const row = await repo.liftKeyHold(trx, change.target, new Date(from.heldAt), at);
        if (!row) throw stale('the key is no longer held, or held again since');
        await appendAudit(trx, { actor: actx.actor, action: 'key.hold-lift', target: row.id, outcome: 'success', requestId: actx.requestId, details: { tenant: row.tenant, heldAt: from.heldAt, heldBy: from.heldBy, approvalId: actx.approvalId } }, at);
        return toKeyMetadata(row);
      },
    };
  }

  /** Drops counters older than any window a check still reads. */
  async purge(db: Db): Promise<number> {
    const span = Math.max((this.opts.burst.baselineWindows + 1) * this.opts.burst.windowSeconds, 2 * this.opts.denials.windowSeconds);
    return repo.deleteAlertCountersBefore(db, new Date(this.clock.now().getTime() - span * 1000));
  }

  /** Stops webhook retries (at shutdown). */
  close(): void {
    this.webhook?.close();
  }
}
