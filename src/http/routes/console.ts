// GET /console/ and /console/{file}: the admin web console's static files, with its strict CSP.
import type { FastifyReply } from 'fastify';
import { CONSOLE_HEADERS, type ConsoleAssets } from '../../admin/console-assets.js';
import { RequestError } from '../../errors.js';
import type { RouteRegistrar } from '../app.js';

function send(reply: FastifyReply, assets: ConsoleAssets, name: string): FastifyReply {
  reply.headers(CONSOLE_HEADERS);
  const asset = assets.get(name);
  if (!asset) {
    throw new RequestError(
      'ERR_ROUTE_NOT_FOUND',
      assets.dir === null ? 'The admin console is not built into this installation (npm run build).' : `No console file ${name}.`,
    );
  }
  reply.header('cache-control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  return reply.type(asset.type).send(asset.body);
}

export function registerConsoleRoutes(r: RouteRegistrar, assets: ConsoleAssets): void {
  r.route('consoleIndex', 'public', async (_request, reply) => send(reply, assets, 'index.html'));
  r.route('consoleAsset', 'public', async (request, reply) => send(reply, assets, (request.params as { file: string }).file));
}
