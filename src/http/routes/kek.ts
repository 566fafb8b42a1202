// Root KEK administration over HTTP: status, and rotation inside the running service (the way to rotate
// without downtime on the embedded database, which only one process may open).
import { kekStatus, nextKekUri, rotateKek, type KekOpener } from '../../broker/kek-admin.js';
import type { Clock } from '../../clock.js';
import type { Db } from '../../store/database.js';
import type { KekRing } from '../../keys/kek.js';
import { requestContext, type RouteRegistrar } from '../app.js';
import { KeywardError, RequestError } from '../../errors.js';

export interface KekRouteDeps {
  readonly db: Db;
  readonly keks: KekRing;
  readonly clock: Clock;
  /** Opens (creating when new) the KEK a URI names. */
  readonly openNew: KekOpener;
}

export function registerKekRoutes(r: RouteRegistrar, deps: KekRouteDeps): void {
  r.route('kekStatus', 'kek:admin', async () => ({ items: await kekStatus(deps.db) }));

  r.route('rotateKek', 'kek:admin', async (request) => {
    const body = (request.body ?? {}) as { to?: string };
    try {
      const next = await deps.openNew(body.to ?? nextKekUri(deps.keks.active, deps.clock.now()));
      return await rotateKek(deps.db, deps.keks, next, deps.clock, requestContext(request).actor);
    } catch (err) {
      // A KEK URI from a request that does not parse, or names the active KEK, is the caller's mistake.
      if (err instanceof KeywardError && (err.code === 'ERR_CONFIG_INVALID' || err.code === 'ERR_KEK_CONFIG_INVALID')) {
        throw new RequestError('ERR_REQUEST_INVALID', err.message, { cause: err });
      }
      throw err;
    }
  });
}
