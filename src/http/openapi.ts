// Loads openapi.yaml (the contract) and hands each route its request schemas by operationId, so what
// the server validates is exactly what the document says.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

export const OPENAPI_PATH = fileURLToPath(new URL('../../openapi.yaml', import.meta.url));

type JsonObject = Record<string, unknown>;

export interface OperationSchemas {
  readonly method: string;
  /** OpenAPI path template, e.g. /v1/keys/{id}. */
  readonly path: string;
  readonly body?: JsonObject;
  readonly querystring?: JsonObject;
  readonly params?: JsonObject;
  readonly headers?: JsonObject;
}

export interface OpenApiDocument {
  readonly text: string;
  readonly doc: JsonObject;
  operation(operationId: string): OperationSchemas;
  operationIds(): string[];
}

/** Replaces every local `$ref` with the schema it points to (the spec has no cycles). */
function dereference(node: unknown, root: JsonObject, seen: string[] = []): unknown {
  if (Array.isArray(node)) return node.map((n) => dereference(n, root, seen));
  if (node === null || typeof node !== 'object') return node;
  const obj = node as JsonObject;
  const ref = obj['$ref'];
  if (typeof ref === 'string' && ref.startsWith('#/')) {
    if (seen.includes(ref)) throw new Error(`openapi.yaml: cyclic $ref ${ref}`);
    const target = ref
      .slice(2)
      .split('/')
      .reduce<unknown>((acc, part) => (acc as JsonObject | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], root);
    if (target === undefined) throw new Error(`openapi.yaml: unresolved $ref ${ref}`);
    return dereference(target, root, [...seen, ref]);
  }
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(obj)) out[k] = dereference(v, root, seen);
  return out;
}

/** Strips OpenAPI-only keywords that are not JSON Schema validation keywords. */
function toJsonSchema(schema: unknown): JsonObject {
  const s = JSON.parse(JSON.stringify(schema)) as JsonObject;
  const strip = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(strip);
    if (n && typeof n === 'object') {
      const o = n as JsonObject;
      delete o['example'];
      delete o['examples'];
      delete o['xml'];
      delete o['externalDocs'];
      Object.values(o).forEach(strip);
    }
  };
  strip(s);
  return s;
}

function parameterSchema(params: JsonObject[], location: string): JsonObject | undefined {
  const selected = params.filter((p) => p['in'] === location);
  if (selected.length === 0) return undefined;
  const properties: JsonObject = {};
  const required: string[] = [];
  for (const p of selected) {
    const name = location === 'header' ? String(p['name']).toLowerCase() : String(p['name']);
    properties[name] = toJsonSchema(p['schema'] ?? {});
    if (p['required']) required.push(name);
  }
  return { type: 'object', properties, required, ...(location === 'query' ? { additionalProperties: false } : {}) };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Marks a request-body schema whose body may be omitted (requestBody.required is not true). */
export const OPTIONAL_BODY = 'x-keyward-optional-body';

export function loadOpenApi(path = OPENAPI_PATH): OpenApiDocument {
  const text = readFileSync(path, 'utf8');
  const doc = parseYaml(text) as JsonObject;
  const resolved = dereference(doc, doc) as JsonObject;
  const operations = new Map<string, OperationSchemas>();
  for (const [p, item] of Object.entries((resolved['paths'] ?? {}) as Record<string, JsonObject>)) {
    const shared = (item['parameters'] ?? []) as JsonObject[];
    for (const method of METHODS) {
      const op = item[method] as JsonObject | undefined;
      if (!op) continue;
      const id = op['operationId'];
      if (typeof id !== 'string') throw new Error(`openapi.yaml: ${method.toUpperCase()} ${p} has no operationId`);
      const params = [...shared, ...((op['parameters'] ?? []) as JsonObject[])];
      const content = ((op['requestBody'] as JsonObject | undefined)?.['content'] ?? {}) as Record<string, JsonObject>;
      const withSchema = Object.entries(content).filter(([, media]) => media['schema'] !== undefined);
      // One media type: its schema validates the body. Several: fastify picks the schema by content type.
      const bodySchema =
        withSchema.length > 1
          ? { content: Object.fromEntries(withSchema.map(([type, media]) => [type, { schema: toJsonSchema(media['schema']) }])) }
          : content['application/json']?.['schema'];
      const querystring = parameterSchema(params, 'query');
      const pathParams = parameterSchema(params, 'path');
      const bodyRequired = (op['requestBody'] as JsonObject | undefined)?.['required'] === true;
      const body = bodySchema ? (withSchema.length > 1 ? (bodySchema as JsonObject) : toJsonSchema(bodySchema)) : undefined;
      operations.set(id, {
        method: method.toUpperCase(),
        path: p,
        // An optional body may be absent; the validator compiler honours this marker.
        ...(body ? { body: bodyRequired ? body : { ...body, [OPTIONAL_BODY]: true } } : {}),
        ...(querystring ? { querystring } : {}),
        ...(pathParams ? { params: pathParams } : {}),
      });
    }
  }
  return {
    text,
    doc,
    operation(operationId) {
      const op = operations.get(operationId);
      if (!op) throw new Error(`openapi.yaml has no operation ${operationId}`);
      return op;
    },
    operationIds: () => [...operations.keys()],
  };
}

/** /v1/keys/{id} → /v1/keys/:id */
export function toFastifyPath(openApiPath: string): string {
  return openApiPath.replace(/\{([^}]+)\}/g, ':$1');
}
