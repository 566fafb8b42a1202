// Validates real responses against openapi.yaml: the operation is found by method and path template,
// the status must be documented, and a JSON body must match that status's schema.
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import { loadOpenApi } from '../../src/http/openapi.js';

const spec = loadOpenApi();
const ajv = new Ajv2020.default({ strict: false, allErrors: true });
addFormats.default(ajv);

type JsonObject = Record<string, unknown>;
const resolvedDoc = resolve(spec.doc, spec.doc) as JsonObject;

function resolve(node: unknown, root: JsonObject): unknown {
  if (Array.isArray(node)) return node.map((n) => resolve(n, root));
  if (node === null || typeof node !== 'object') return node;
  const obj = node as JsonObject;
  if (typeof obj['$ref'] === 'string') {
    const target = (obj['$ref'] as string)
      .slice(2)
      .split('/')
      .reduce<unknown>((acc, p) => (acc as JsonObject)[p], root);
    return resolve(target, root);
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, resolve(v, root)]));
}

interface Route {
  readonly method: string;
  readonly template: string;
  readonly re: RegExp;
  readonly responses: Record<string, JsonObject>;
}

const routes: Route[] = [];
for (const [path, item] of Object.entries(resolvedDoc['paths'] as Record<string, JsonObject>)) {
  for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
    const op = item[method] as JsonObject | undefined;
    if (!op) continue;
    const re = new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+').replace(/\./g, '\\.')}/?$`);
    routes.push({ method: method.toUpperCase(), template: path, re, responses: op['responses'] as Record<string, JsonObject> });
  }
}
// Static segments win over templated ones, as in the router.
routes.sort((a, b) => (a.template.match(/\{/g)?.length ?? 0) - (b.template.match(/\{/g)?.length ?? 0));

const validators = new Map<string, ValidateFunction>();

export function findRoute(method: string, url: string): Route | undefined {
  const path = url.split('?')[0] as string;
  return routes.find((r) => r.method === method.toUpperCase() && r.re.test(path));
}

/** Throws when a response is not what openapi.yaml promises for that operation and status. */
export function assertMatchesContract(method: string, url: string, status: number, contentType: string | undefined, body: string): void {
  const route = findRoute(method, url);
  if (!route) {
    if (status === 404 || status === 405) return;
    throw new Error(`contract: ${method} ${url} answered ${status} but is not in openapi.yaml`);
  }
  const response = route.responses[String(status)];
  if (!response) throw new Error(`contract: ${method} ${route.template} returned undocumented status ${status}: ${body.slice(0, 300)}`);
  const content = response['content'] as Record<string, JsonObject> | undefined;
  if (!content) return;
  const type = (contentType ?? '').split(';')[0]?.trim() ?? '';
  const media = content[type];
  if (!media) throw new Error(`contract: ${method} ${route.template} ${status} returned ${type}, documented: ${Object.keys(content).join(', ')}`);
  if (!type.includes('json')) return;
  const key = `${route.method} ${route.template} ${status} ${type}`;
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile(media['schema'] as object);
    validators.set(key, validate);
  }
  if (!validate(JSON.parse(body))) {
    throw new Error(`contract: ${key} body does not match the schema: ${ajv.errorsText(validate.errors)}\n${body.slice(0, 500)}`);
  }
}

export { spec as openapi };
