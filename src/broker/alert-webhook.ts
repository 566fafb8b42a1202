// Delivers anomaly alerts to KEYWARD_ALERT_WEBHOOK (docs/operations.md "Anomaly alerts"): a JSON POST
// signed with HMAC-SHA256, sent once the alert's transaction has committed, retried with exponential
// backoff a bounded number of times, all in the background: a slow or dead receiver never delays or
// fails a release. Delivery is best effort; the audit log is the durable record of every alert.
import { createHmac } from 'node:crypto';
import type { Clock } from '../clock.js';

export const SIGNATURE_HEADER = 'x-keyward-signature';
export const TIMESTAMP_HEADER = 'x-keyward-timestamp';
export const ALERT_ID_HEADER = 'x-keyward-alert-id';

/** Alerts waiting for delivery or a retry; beyond this, new ones are dropped (and counted) rather than queued. */
export const MAX_PENDING_DELIVERIES = 1000;

export interface WebhookSettings {
  readonly url: string;
  readonly secret: string;
  readonly attempts: number;
  /** The wait before the first retry; each further retry waits twice as long. */
  readonly backoffMs: number;
  readonly timeoutMs: number;
}

export type DeliveryResult = 'delivered' | 'retried' | 'failed' | 'dropped';

export interface WebhookLogger {
  warn(obj: object, msg: string): void;
}

/**
 * `sha256=` + hex HMAC-SHA256(secret, `<timestamp>.<body>`). Why the timestamp is signed: a receiver that
 * refuses old timestamps cannot be fed a captured alert again as a new one.
 */
export function signAlertBody(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

/** Whether a failed attempt is worth repeating: network errors, timeouts, 408, 429 and 5xx. */
function retryable(status: number | undefined): boolean {
  return status === undefined || status === 408 || status === 429 || status >= 500;
}

/** What a log line may say about a failed attempt: the status, or the error's code — never the URL's path or query. */
function failureOf(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  return err instanceof Error && err.name === 'TimeoutError' ? 'timeout' : 'network error';
}

export class AlertWebhook {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly aborts = new Set<AbortController>();
  private pending = 0;
  private closed = false;
  /** The receiver as logs may name it: scheme, host and port only (paths of webhook URLs often carry tokens). */
  readonly receiver: string;

  constructor(
    private readonly settings: WebhookSettings,
    private readonly clock: Clock,
    private readonly logger: WebhookLogger,
    private readonly onResult: (result: DeliveryResult) => void,
  ) {
    this.receiver = new URL(settings.url).origin;
  }

  /** Queues one alert for delivery and returns at once. */
  send(alertId: string, alert: Readonly<Record<string, unknown>>): void {
    if (this.closed) return;
    if (this.pending >= MAX_PENDING_DELIVERIES) {
      this.onResult('dropped');
      this.logger.warn({ alertId, receiver: this.receiver, pending: this.pending }, 'alert webhook backlog full; alert not sent (it is in the audit log)');
      return;
    }
    this.pending++;
    void this.attempt(alertId, JSON.stringify(alert), 1);
  }

  private async attempt(alertId: string, body: string, n: number): Promise<void> {
    const { status, failure } = await this.post(alertId, body);
    if (status !== undefined && status >= 200 && status < 300) return this.finish('delivered');
    const reason = status !== undefined ? `HTTP ${status}` : failure;
    if (this.closed || n >= this.settings.attempts || !retryable(status)) {
      this.logger.warn({ alertId, receiver: this.receiver, attempts: n, reason }, 'alert webhook delivery failed; giving up (the alert is in the audit log)');
      return this.finish('failed');
    }
    this.onResult('retried');
    const delay = this.settings.backoffMs * 2 ** (n - 1);
    this.logger.warn({ alertId, receiver: this.receiver, attempt: n, reason, retryInMs: delay }, 'alert webhook delivery failed; will retry');
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(alertId, body, n + 1);
    }, delay);
    timer.unref();
    this.timers.add(timer);
  }

  /** One POST; the signature is made per attempt so its timestamp is current. Never throws. */
  private async post(alertId: string, body: string): Promise<{ status?: number; failure?: string }> {
    const timestamp = Math.floor(this.clock.now().getTime() / 1000);
    const abort = new AbortController();
    this.aborts.add(abort);
    try {
      const res = await fetch(this.settings.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'keyward-alerts',
          [SIGNATURE_HEADER]: signAlertBody(this.settings.secret, timestamp, body),
          [TIMESTAMP_HEADER]: String(timestamp),
          [ALERT_ID_HEADER]: alertId,
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.any([abort.signal, AbortSignal.timeout(this.settings.timeoutMs)]),
      });
      await res.body?.cancel();
      return { status: res.status };
    } catch (err) {
      return { failure: failureOf(err) };
    } finally {
      this.aborts.delete(abort);
    }
  }

  private finish(result: 'delivered' | 'failed'): void {
    this.pending--;
    this.onResult(result);
  }

  /** Stops retrying and aborts requests in flight (at shutdown). */
  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const a of this.aborts) a.abort();
  }
}
