// Root KEK administration over HTTP: status, and rotation inside the running service (the way to rotate
// without downtime on the embedded database, which only one process may open).
import type { KekStatus, RotationResult } from '../../broker/kek-admin.js';
import type { Performed } from '../../broker/approvals.js';
import type { RequestContext } from '../../broker/vault.js';
import { requestContext, sendPerformed, type RouteRegistrar } from '../app.js';

export interface KekRouteDeps {
  status(): Promise<KekStatus[]>;
  /** The configured rotation targets (KEYWARD_KEK_TARGETS), by name, with their secret-free URIs. */
  targets(): { name: string; uri: string }[];
  /** Rotates to the configured target `target` names, or to the default next KEK (under the platform quorum). */
  rotate(ctx: RequestContext, target: string | undefined): Promise<Performed<RotationResult>>;
}

export function registerKekRoutes(r: RouteRegistrar, deps: KekRouteDeps): void {
  r.route('kekStatus', 'kek:admin', async () => ({ items: await deps.status(), targets: deps.targets() }));

  r.route('rotateKek', 'kek:admin', async (request, reply) => {
    const body = (request.body ?? {}) as { target?: string };
    return sendPerformed(reply, await deps.rotate(requestContext(request), body.target));
  });
}
