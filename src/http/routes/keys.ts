// Key vault routes (docs/design.md "Keys"): CRUD, rotate, enable/disable, destroy, data keys, BYOK import.
import type { FastifyRequest } from 'fastify';
import type { Vault, CreateKeyInput, KeyMetadata } from '../../broker/vault.js';
import { dataKeyResponse } from '../../broker/vault.js';
import type { ImportKeys } from '../../broker/import-keys.js';
import type { KeyImports } from '../../broker/key-imports.js';
import { releasesCsv, type ReleaseReport } from '../../broker/release-report.js';
import { zeroize } from '../../encoding.js';
import { requestContext, sendPerformed, type RouteRegistrar } from '../app.js';

interface IdParams {
  id: string;
}

function withEtag(reply: { header(k: string, v: string): unknown }, key: KeyMetadata): KeyMetadata {
  reply.header('etag', key.etag);
  return key;
}

function labelFilter(raw: string[] | undefined): Record<string, string> | undefined {
  if (raw === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const item of raw) {
    const i = item.indexOf('=');
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

export function registerKeyRoutes(r: RouteRegistrar, vault: Vault, importKeys: ImportKeys, report: ReleaseReport, keyImports: KeyImports): void {
  r.route('scheduleKeyDestroy', 'keys:write', async (request, reply) => {
    const body = request.body as { pendingDays: number };
    return sendPerformed(reply, await vault.scheduleDestroy(requestContext(request), (request.params as IdParams).id, body.pendingDays), (key) => withEtag(reply, key));
  });

  r.route('cancelKeyDestroy', 'keys:write', async (request, reply) =>
    sendPerformed(reply, await vault.cancelDestroy(requestContext(request), (request.params as IdParams).id), (key) => withEtag(reply, key)),
  );

  r.route('listKeyReleases', 'keys:read', async (request, reply) => {
    const q = request.query as { from?: string; to?: string; outcome?: 'released' | 'denied'; format: 'json' | 'csv'; limit: number };
    const items = await report.list(requestContext(request), (request.params as IdParams).id, q);
    if (q.format === 'csv') {
      reply.type('text/csv; charset=utf-8');
      return releasesCsv(items);
    }
    return { items };
  });

  r.route('createKey', 'keys:write', async (request, reply) => {
    const key = await vault.create(requestContext(request), request.body as CreateKeyInput);
    reply.code(201).header('location', `/v1/keys/${key.id}`);
    return withEtag(reply, key);
  });

  r.route('listKeys', 'keys:read', async (request) => {
    const q = request.query as { tenant?: string; kind?: KeyMetadata['kind']; state?: KeyMetadata['state']; label?: string[]; limit: number; cursor?: string };
    const labels = labelFilter(q.label);
    return vault.list(requestContext(request), {
      ...(q.tenant ? { tenant: q.tenant } : {}),
      limit: q.limit,
      ...(q.kind ? { kind: q.kind } : {}),
      ...(q.state ? { state: q.state } : {}),
      ...(labels ? { labels } : {}),
      ...(q.cursor ? { cursor: q.cursor } : {}),
    });
  });

  r.route('getKey', 'keys:read', async (request, reply) => withEtag(reply, await vault.get(requestContext(request), (request.params as IdParams).id)));

  r.route('updateKey', 'keys:write', async (request, reply) => {
    const ifMatch = request.headers['if-match'];
    const key = await vault.update(
      requestContext(request),
      (request.params as IdParams).id,
      request.body as { description?: string; labels?: Record<string, string>; rateLimit?: { perMinute: number } | null; alertHold?: boolean },
      typeof ifMatch === 'string' ? ifMatch : undefined,
    );
    return withEtag(reply, key);
  });

  r.route('destroyKey', 'keys:write', async (request, reply) =>
    sendPerformed(reply, await vault.destroy(requestContext(request), (request.params as IdParams).id), (key) => withEtag(reply, key)),
  );

  r.route('rotateKey', 'keys:write', async (request, reply) =>
    withEtag(reply, await vault.rotate(requestContext(request), (request.params as IdParams).id)),
  );

  r.route('disableKey', 'keys:write', async (request, reply) =>
    sendPerformed(reply, await vault.setEnabled(requestContext(request), (request.params as IdParams).id, false), (key) => withEtag(reply, key)),
  );

  r.route('enableKey', 'keys:write', async (request, reply) =>
    sendPerformed(reply, await vault.setEnabled(requestContext(request), (request.params as IdParams).id, true), (key) => withEtag(reply, key)),
  );

  r.route('listKeyVersions', 'keys:read', async (request) => ({ items: await vault.versions(requestContext(request), (request.params as IdParams).id) }));

  r.route('generateDataKey', 'keys:datakey', async (request: FastifyRequest) => {
    const dk = await vault.dataKey(requestContext(request), (request.params as IdParams).id);
    try {
      return dataKeyResponse(dk);
    } finally {
      zeroize(dk.plaintext);
    }
  });

  r.route('getImportKey', 'keys:write', async (request) => {
    const q = request.query as { alg: Parameters<ImportKeys['publicKey']>[0] };
    vault.assertImportKeyAccess(requestContext(request));
    return importKeys.publicKey(q.alg);
  });

  r.route('createKeyImportParams', 'keys:write', async (request) => {
    const body = (request.body ?? {}) as { alg?: Parameters<KeyImports['params']>[2] };
    return keyImports.params(requestContext(request), (request.params as IdParams).id, body.alg);
  });

  r.route('importKeyMaterial', 'keys:write', async (request, reply) =>
    withEtag(reply, await keyImports.importMaterial(requestContext(request), (request.params as IdParams).id, (request.body as { jwe: string }).jwe)),
  );

  r.route('importKey', 'keys:write', async (request, reply) => {
    const key = await vault.import(requestContext(request), request.body as CreateKeyInput & { jwe: string });
    reply.code(201).header('location', `/v1/keys/${key.id}`);
    return withEtag(reply, key);
  });
}
