// A tiny scripted HTTP server for fault injection in client tests: each request is recorded and answered
// by the test's handler (status, headers, body; or hang, or drop the connection).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: unknown;
}

export type Answer =
  | { readonly status: number; readonly headers?: Record<string, string>; readonly json?: unknown; readonly text?: string }
  | 'hang'
  | 'drop';

export type Handler = (request: RecordedRequest, index: number) => Answer | Promise<Answer>;

export interface FakeHttp {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Replaces the handler. */
  handle(handler: Handler): void;
  close(): Promise<void>;
}

export function problem(status: number, code: string, opts: { headers?: Record<string, string>; extra?: Record<string, unknown> } = {}): Answer {
  return {
    status,
    headers: { 'content-type': 'application/problem+json', ...(opts.headers ?? {}) },
    json: { type: `https://keyward.dev/errors/${code}`, title: 'x', status, code, detail: `fake ${code}`, requestId: `req-${code}`, ...(opts.extra ?? {}) },
  };
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  const text = Buffer.concat(parts).toString('utf8');
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function startFakeHttp(initial: Handler = () => ({ status: 404, json: {} })): Promise<FakeHttp> {
  let handler = initial;
  const requests: RecordedRequest[] = [];
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer(async (req, res) => {
    const recorded: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: await readBody(req) };
    requests.push(recorded);
    const answer = await handler(recorded, requests.length - 1);
    if (answer === 'hang') {
      hanging.add(res);
      return;
    }
    if (answer === 'drop') {
      req.socket.destroy();
      return;
    }
    const body = answer.text ?? (answer.json !== undefined ? JSON.stringify(answer.json) : '');
    res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.headers ?? {}) });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    handle(next) {
      handler = next;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A local port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
