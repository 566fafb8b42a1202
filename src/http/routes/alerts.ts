// Anomaly-alert routes (docs/operations.md "Anomaly alerts"): lifting the hold an alert put on a key.
import type { Alerts } from '../../broker/alerts.js';
import { requestContext, sendPerformed, type RouteRegistrar } from '../app.js';

export function registerAlertRoutes(r: RouteRegistrar, alerts: Alerts): void {
  r.route('liftKeyHold', 'keys:write', async (request, reply) =>
    sendPerformed(reply, await alerts.liftHold(requestContext(request), (request.params as { id: string }).id), (key) => {
      reply.header('etag', key.etag);
      return key;
    }),
  );
}
