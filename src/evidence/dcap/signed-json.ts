// Intel PCS signed JSON (TCB Info and Enclave Identity responses, PCS API v4 appendix A/B): the outer
// object {"<body key>": {...}, "signature": "<hex r‖s>"} where the signature covers the exact bytes of the
// inner object as served. The body is sliced from the text, never re-serialized (key order, spacing and
// hex case must survive).

export interface SignedJson {
  /** The inner object exactly as it appears in the text. */
  readonly bodyText: string;
  /** The inner object, parsed. */
  readonly body: Record<string, unknown>;
  /** ECDSA P-256 signature, raw r‖s. */
  readonly signature: Uint8Array;
}

export class SignedJsonError extends Error {}

function skipWhitespace(text: string, pos: number): number {
  while (pos < text.length && ' \t\n\r'.includes(text[pos] as string)) pos++;
  return pos;
}

function scanString(text: string, pos: number): number {
  if (text[pos] !== '"') throw new SignedJsonError('expected a string');
  pos++;
  while (pos < text.length) {
    const c = text[pos];
    if (c === '\\') pos += 2;
    else if (c === '"') return pos + 1;
    else pos++;
  }
  throw new SignedJsonError('unterminated string');
}

/** The end of the JSON value starting at `pos` (the text is already known to be valid JSON). */
function scanValue(text: string, pos: number): number {
  const c = text[pos];
  if (c === '"') return scanString(text, pos);
  if (c === '{' || c === '[') {
    let depth = 0;
    while (pos < text.length) {
      const d = text[pos];
      if (d === '"') {
        pos = scanString(text, pos);
        continue;
      }
      if (d === '{' || d === '[') depth++;
      if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) return pos + 1;
      }
      pos++;
    }
    throw new SignedJsonError('unterminated value');
  }
  while (pos < text.length && !',}] \t\n\r'.includes(text[pos] as string)) pos++;
  return pos;
}

/** The raw text of each top-level member's value, in order. */
function topLevelMembers(text: string): [string, string][] {
  const members: [string, string][] = [];
  let pos = skipWhitespace(text, 0);
  if (text[pos] !== '{') throw new SignedJsonError('not a JSON object');
  pos = skipWhitespace(text, pos + 1);
  if (text[pos] === '}') return members;
  for (;;) {
    const keyEnd = scanString(text, pos);
    const key = JSON.parse(text.slice(pos, keyEnd)) as string;
    pos = skipWhitespace(text, keyEnd);
    if (text[pos] !== ':') throw new SignedJsonError('expected ":"');
    pos = skipWhitespace(text, pos + 1);
    const valueEnd = scanValue(text, pos);
    members.push([key, text.slice(pos, valueEnd)]);
    pos = skipWhitespace(text, valueEnd);
    if (text[pos] === ',') {
      pos = skipWhitespace(text, pos + 1);
      continue;
    }
    if (text[pos] === '}') return members;
    throw new SignedJsonError('expected "," or "}"');
  }
}

const SIGNATURE_HEX = /^[0-9a-fA-F]{128}$/;

/**
 * Splits a signed PCS document. `bodyKeys` are the accepted names of the signed member (exactly one must
 * be present, once); "signature" must be 64 bytes of hex. Anything else is a SignedJsonError.
 */
export function splitSignedJson(text: string, bodyKeys: readonly string[]): SignedJson {
  try {
    JSON.parse(text);
  } catch {
    throw new SignedJsonError('not valid JSON');
  }
  const members = topLevelMembers(text);
  const bodies = members.filter(([key]) => bodyKeys.includes(key));
  const signatures = members.filter(([key]) => key === 'signature');
  if (bodies.length !== 1) throw new SignedJsonError(`expected exactly one of ${bodyKeys.join(', ')}`);
  if (signatures.length !== 1) throw new SignedJsonError('expected exactly one signature');
  const bodyText = (bodies[0] as [string, string])[1];
  const signatureValue = JSON.parse((signatures[0] as [string, string])[1]) as unknown;
  if (typeof signatureValue !== 'string' || !SIGNATURE_HEX.test(signatureValue)) {
    throw new SignedJsonError('the signature must be 128 hex digits');
  }
  const body = JSON.parse(bodyText) as unknown;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new SignedJsonError('the signed body must be an object');
  return { bodyText, body: body as Record<string, unknown>, signature: new Uint8Array(Buffer.from(signatureValue, 'hex')) };
}
