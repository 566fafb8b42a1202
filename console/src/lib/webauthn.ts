// WebAuthn JSON (as @simplewebauthn/server sends and expects it) ↔ the browser's binary credential API.
type Json = Record<string, unknown>;

export function fromBase64url(text: string): ArrayBuffer {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '=');
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out.buffer;
}

export function toBase64url(buf: ArrayBuffer | null | undefined): string | undefined {
  if (!buf) return undefined;
  let bin = '';
  for (const b of new Uint8Array(buf)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function descriptors(list: unknown): PublicKeyCredentialDescriptor[] | undefined {
  if (!Array.isArray(list)) return undefined;
  return list.map((d: Json) => ({ ...(d as object), type: 'public-key', id: fromBase64url(String(d['id'])) }) as PublicKeyCredentialDescriptor);
}

export function supported(): boolean {
  return typeof window.PublicKeyCredential === 'function' && !!navigator.credentials;
}

/** The JSON form of a credential the server's WebAuthn verification reads, around its own `response` fields. */
function credentialJson(cred: PublicKeyCredential, response: Json): Json {
  return {
    id: cred.id,
    rawId: toBase64url(cred.rawId),
    type: cred.type,
    authenticatorAttachment: cred.authenticatorAttachment ?? undefined,
    clientExtensionResults: cred.getClientExtensionResults(),
    response,
  };
}

/** navigator.credentials.get for PublicKeyCredentialRequestOptionsJSON; the assertion as JSON. */
export async function getAssertion(options: Json): Promise<Json> {
  const publicKey: PublicKeyCredentialRequestOptions = {
    ...(options as object),
    challenge: fromBase64url(String(options['challenge'])),
    ...(options['allowCredentials'] ? { allowCredentials: descriptors(options['allowCredentials']) ?? [] } : {}),
  } as PublicKeyCredentialRequestOptions;
  const cred = (await navigator.credentials.get({ publicKey })) as PublicKeyCredential | null;
  if (!cred) throw new Error('No passkey was used.');
  const r = cred.response as AuthenticatorAssertionResponse;
  return credentialJson(cred, {
    clientDataJSON: toBase64url(r.clientDataJSON),
    authenticatorData: toBase64url(r.authenticatorData),
    signature: toBase64url(r.signature),
    userHandle: toBase64url(r.userHandle),
  });
}

/** navigator.credentials.create for PublicKeyCredentialCreationOptionsJSON; the attestation as JSON. */
export async function createCredential(options: Json): Promise<Json> {
  const user = options['user'] as Json;
  const publicKey: PublicKeyCredentialCreationOptions = {
    ...(options as object),
    challenge: fromBase64url(String(options['challenge'])),
    user: { ...(user as object), id: fromBase64url(String(user['id'])) },
    ...(options['excludeCredentials'] ? { excludeCredentials: descriptors(options['excludeCredentials']) ?? [] } : {}),
  } as PublicKeyCredentialCreationOptions;
  const cred = (await navigator.credentials.create({ publicKey })) as PublicKeyCredential | null;
  if (!cred) throw new Error('No passkey was created.');
  const r = cred.response as AuthenticatorAttestationResponse;
  return credentialJson(cred, {
    clientDataJSON: toBase64url(r.clientDataJSON),
    attestationObject: toBase64url(r.attestationObject),
    transports: typeof r.getTransports === 'function' ? r.getTransports() : [],
  });
}
