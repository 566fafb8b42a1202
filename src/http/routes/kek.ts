// Root KEK administration over HTTP: status, and rotation inside the running service (the way to rotate
// without downtime on the embedded database, which only one process may open).
import type { KekStatus, RotationResult } from '../../broker/kek-admin.js';
import type { Actor } from '../../broker/audit.js';
import { KeywardError, RequestError } from '../../errors.js';
import { requestContext, type RouteRegistrar } from '../app.js';

export interface KekRouteDeps {
  status(): Promise<KekStatus[]>;
  /** Rotates to the KEK `to` names (created when new), or to the default next KEK. */
  rotate(to: string | undefined, actor: Actor): Promise<RotationResult>;
}

export function registerKekRoutes(r: RouteRegistrar, deps: KekRouteDeps): void {
  r.route('kekStatus', 'kek:admin', async () => ({ items: await deps.status() }));

  r.route('rotateKek', 'kek:admin', async (request) => {
    const body = (request.body ?? {}) as { to?: string };
    try {
      return await deps.rotate(body.to, requestContext(request).actor);
    } catch (err) {
      // A KEK URI from a request that does not parse, or names the active KEK, is the caller's mistake.
      if (err instanceof KeywardError && (err.code === 'ERR_CONFIG_INVALID' || err.code === 'ERR_KEK_CONFIG_INVALID')) {
        throw new RequestError('ERR_REQUEST_INVALID', err.message, { cause: err });
      }
      throw err;
    }
  });
}
