// Root KEK rotation as a platform change (docs/governance.md): under KEYWARD_PLATFORM_QUORUM a rotation
// request waits for that many distinct platform admins' passkey approvals. The change names the active KEK
// it moves from and the target (a KEYWARD_KEK_TARGETS name, or the default next KEK at a given time); the
// apply re-derives the target's URI from the configuration, so no URI stored in the database is ever opened.
import type { Clock } from '../clock.js';
import { RequestError } from '../errors.js';
import type { Db } from '../store/database.js';
import * as keksRepo from '../store/keks-repo.js';
import type { Kek, KekRing } from '../keys/kek.js';
import { stale, type Approvals, type Performed, type SensitiveOperation } from './approvals.js';
import { finishRotation, interruptedRotation, resumeRotation, startRotation, type RotationResult } from './kek-admin.js';
import type { RequestContext } from './vault.js';

/** Resolves rotation targets from the configuration (KEYWARD_KEK_TARGETS, or the next KEK beside `active`). */
export interface KekTargets {
  /** The secret-free URI of the target; an unknown name is ERR_KEK_TARGET_UNKNOWN. */
  uriOf(target: string | undefined, active: Kek, at: Date): string;
  /** Opens the target, creating it when new. */
  open(target: string | undefined, active: Kek, at: Date): Promise<Kek>;
}

interface RotationChange {
  readonly target: string | null;
  readonly uri: string;
  readonly at: string;
}

export class KekRotation {
  /** KEKs opened by an apply, handed to its afterCommit (rewrap) by id. */
  private readonly opened = new Map<string, Kek>();

  constructor(
    private readonly db: Db,
    private readonly ring: KekRing,
    private readonly clock: Clock,
    private readonly targets: KekTargets,
    private readonly approvals: Approvals,
  ) {
    approvals.register(this.operation());
  }

  /**
   * Rotates the KEK (at once, or pending approvals under the platform quorum). An interrupted rotation is
   * finished instead: that changes no KEK's role, it completes one already applied.
   */
  async rotate(ctx: RequestContext, target: string | undefined): Promise<Performed<RotationResult>> {
    const interrupted = await interruptedRotation(this.db);
    if (interrupted) return { applied: await resumeRotation(this.db, this.ring, interrupted, this.clock, ctx.actor) };
    return this.approvals.perform<{ target: string | undefined }, RotationResult>(ctx, 'kek.rotate', { target });
  }

  private async activeKek(trx: Db): Promise<Kek> {
    const row = await keksRepo.activeKekRow(trx);
    if (!row) throw new RequestError('ERR_KEK_TARGET_UNKNOWN', 'The database has no active KEK to rotate from.');
    return this.ring.resolve(row.id);
  }

  private operation(): SensitiveOperation<{ target: string | undefined }, RotationResult> {
    return {
      name: 'kek.rotate',
      // Scope `kek:admin` (platform admins and operators) requests; platform admins approve.
      describe: async (trx, _ctx, { target }) => {
        const active = await this.activeKek(trx);
        const at = this.clock.now();
        const uri = this.targets.uriOf(target, active, at);
        if (uri === active.uri) throw new RequestError('ERR_KEK_TARGET_ACTIVE', 'The rotation target is the KEK already active.');
        const to: RotationChange = { target: target ?? null, uri, at: at.toISOString() };
        return { tenant: null, target: 'kek', from: { activeKek: active.id }, to };
      },
      apply: async (trx, change, actx) => {
        const from = change.from as { activeKek: string };
        const to = change.to as RotationChange;
        const active = await this.activeKek(trx);
        if (active.id !== from.activeKek) throw stale('the active KEK changed');
        // Why: the URI comes from the configuration again, never from the (untrusted) stored change.
        if (this.targets.uriOf(to.target ?? undefined, active, new Date(to.at)) !== to.uri) throw stale('the KEK rotation targets changed');
        const next = await this.targets.open(to.target ?? undefined, active, new Date(to.at));
        const previous = await startRotation(trx, next, this.clock.now(), actx.actor, { requestId: actx.requestId, details: { approvalId: actx.approvalId, target: to.target } });
        this.opened.set(next.id, next);
        return { from: previous, to: next.id, resealed: 0, resumed: false };
      },
      afterCommit: async (started, actx) => {
        const next = this.opened.get(started.to);
        this.opened.delete(started.to);
        if (!next) return started;
        return finishRotation(this.db, this.ring, next, started.from, this.clock, actx.actor);
      },
    };
  }
}
