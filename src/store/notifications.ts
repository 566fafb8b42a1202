// LISTEN on one Postgres notification channel from a dedicated connection (not a pool client: a pooled
// connection would be handed to queries and its LISTEN lost). Reconnects with backoff after any error,
// and says when it is listening and when it is not, so a cache fed by it can stop trusting itself.
import { hostname } from 'node:os';
import pg from 'pg';

export interface NotificationHandlers {
  /** A notification on the channel (its payload, '' when none). */
  onNotify(payload: string): void;
  /**
   * true once LISTEN took effect (after every reconnect too: notifications sent meanwhile were missed);
   * false as soon as the connection fails.
   */
  onListening(listening: boolean): void;
  /** A connection failure, for the log. */
  onError?(err: unknown): void;
}

export interface Subscription {
  close(): Promise<void>;
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;

/** Channel names are identifiers in LISTEN: only [a-z_] ones are accepted, so none needs quoting. */
function checkedChannel(channel: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid notification channel ${channel}`);
  return channel;
}

export function listenPostgres(url: string, channel: string, handlers: NotificationHandlers): Subscription {
  const name = checkedChannel(channel);
  let closed = false;
  let client: pg.Client | undefined;
  let backoff = MIN_BACKOFF_MS;
  let timer: NodeJS.Timeout | undefined;

  const retry = (err: unknown): void => {
    handlers.onListening(false);
    if (closed) return;
    handlers.onError?.(err);
    const c = client;
    client = undefined;
    c?.removeAllListeners('notification');
    c?.end().catch(() => undefined);
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, backoff);
    timer.unref();
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  };

  const connect = async (): Promise<void> => {
    if (closed) return;
    const c = new pg.Client({ connectionString: url, keepAlive: true, application_name: `keyward-listen/${hostname().slice(0, 24)}/${process.pid}` });
    client = c;
    c.on('error', (err) => {
      if (client === c) retry(err);
    });
    c.on('end', () => {
      if (client === c) retry(new Error('the notification connection ended'));
    });
    c.on('notification', (m) => {
      if (m.channel === name) handlers.onNotify(m.payload ?? '');
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${name}`);
    } catch (err) {
      if (client === c) retry(err);
      return;
    }
    if (client !== c || closed) return;
    backoff = MIN_BACKOFF_MS;
    handlers.onListening(true);
  };

  void connect();
  return {
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = undefined;
      handlers.onListening(false);
      await c?.end().catch(() => undefined);
    },
  };
}
