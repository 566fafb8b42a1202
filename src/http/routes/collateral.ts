// Collateral routes (docs/design.md "Evidence and claims"): upload (the raw file, or JSON {"items": [{name,
// data}]}), list with validity and staleness, delete, and an admin's explicit trust of an uploaded signer
// (docs/trust.md). Raw bodies get their own content-type parsers in an encapsulated scope, so the rest of
// the API keeps answering 415 for anything but JSON.
import type { FastifyInstance } from 'fastify';
import type { CollateralBroker, CollateralListFilter } from '../../broker/collateral.js';
import { fromBase64 } from '../../encoding.js';
import { RequestError } from '../../errors.js';
import { requestContext, sendPerformed, type Handler, type RouteRegistrar } from '../app.js';
import { toFastifyPath, type OpenApiDocument } from '../openapi.js';

/** Media types taken as one raw collateral file (PEM, DER, JSON text, XML). application/json is the envelope. */
export const RAW_COLLATERAL_TYPES = [
  'application/octet-stream',
  'application/pkix-cert',
  'application/pkix-crl',
  'application/ocsp-response',
  'application/x-pem-file',
  'application/x-x509-ca-cert',
  'application/pem-certificate-chain',
  'application/jwk-set+json',
  'application/xml',
  'text/xml',
  'text/plain',
];

interface Envelope {
  items: { name?: string; data: string }[];
}

function decodeEnvelope(body: Envelope): { name?: string; data: Uint8Array }[] {
  return body.items.map((item, i) => {
    const data = fromBase64(item.data);
    if (!data) throw new RequestError('ERR_REQUEST_INVALID', `body.items[${i}].data is not base64.`);
    return { ...(item.name === undefined ? {} : { name: item.name }), data };
  });
}

/** Registers POST /v1/collateral in an encapsulated scope that also parses raw bodies. */
function registerUpload(r: RouteRegistrar, openapi: OpenApiDocument, handler: Handler): void {
  const op = openapi.operation('uploadCollateral');
  r.app.register(async (scope: FastifyInstance) => {
    scope.addContentTypeParser(RAW_COLLATERAL_TYPES, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    scope.route({
      method: op.method as 'POST',
      url: toFastifyPath(op.path),
      // Only the JSON envelope has a schema; a raw file is judged by its content.
      schema: {
        ...(op.body ? { body: { content: { 'application/json': { schema: op.body } } } } : {}),
        ...(op.querystring ? { querystring: op.querystring } : {}),
      },
      config: { scope: 'collateral:write' },
      handler,
    });
  });
}

export function registerCollateralRoutes(r: RouteRegistrar, collateral: CollateralBroker, openapi: OpenApiDocument): void {
  registerUpload(r, openapi, async (request, reply) => {
    const ctx = requestContext(request);
    const body = request.body;
    const name = (request.query as { name?: string }).name;
    if (body === undefined || body === null) {
      throw new RequestError('ERR_REQUEST_MALFORMED', 'Send the collateral file as the request body, or JSON {"items": [{"name", "data"}]}.');
    }
    const items = Buffer.isBuffer(body)
      ? await collateral.upload(ctx, new Uint8Array(body), name)
      : await collateral.uploadFiles(ctx, decodeEnvelope(body as Envelope));
    reply.code(201);
    return { items };
  });

  r.route('listCollateral', 'collateral:read', async (request) => {
    const q = request.query as { kind?: CollateralListFilter['kind']; source?: CollateralListFilter['source']; stale?: boolean; limit: number; cursor?: string };
    return collateral.list({
      limit: q.limit,
      ...(q.kind ? { kind: q.kind } : {}),
      ...(q.source ? { source: q.source } : {}),
      ...(q.stale === undefined ? {} : { stale: q.stale }),
      ...(q.cursor ? { cursor: q.cursor } : {}),
    });
  });

  r.route('deleteCollateral', 'collateral:write', async (request) => collateral.remove(requestContext(request), (request.params as { id: string }).id));

  r.route('trustCollateral', 'collateral:trust', async (request, reply) =>
    sendPerformed(reply, await collateral.trust(requestContext(request), (request.params as { id: string }).id)),
  );
}
