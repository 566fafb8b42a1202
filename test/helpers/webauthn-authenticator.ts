// A software WebAuthn authenticator for tests: real ES256 keys (node:crypto), attestation "none", real
// CBOR authenticatorData with the UP|UV flags and a sign counter, real clientDataJSON, real signatures.
// Nothing in keyward's verification is mocked; tests bend one input (origin, RP id, counter, challenge).
import { createHash, randomBytes, sign, type KeyObject } from 'node:crypto';
import { freshKeyPair } from '../../src/keys/key-pair.js';
import { Encoder } from 'cbor-x';

const cbor = new Encoder({ tagUint8Array: false, mapsAsObjects: false, useRecords: false });

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_AT = 0x40;

interface Credential {
  readonly id: Buffer;
  readonly privateKey: KeyObject;
  readonly cose: Buffer;
  readonly userHandle: string;
  counter: number;
}

export interface CeremonyOverrides {
  /** The origin the "browser" puts in clientDataJSON (default: the authenticator's). */
  readonly origin?: string;
  /** The RP id whose hash goes in authenticatorData (default: the options' or the authenticator's). */
  readonly rpId?: string;
  /** Sets the counter this assertion carries (to test one going backwards). */
  readonly counter?: number;
  /** Clears the user-verified flag. */
  readonly noUserVerification?: boolean;
  /** Which credential answers (default: the first allowed, else the newest). */
  readonly credentialId?: string;
}

function b64url(bytes: Uint8Array | string): string {
  return Buffer.from(bytes).toString('base64url');
}

function sha256(bytes: Uint8Array | string): Buffer {
  return createHash('sha256').update(bytes).digest();
}

function coseEs256(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  return Buffer.from(
    cbor.encode(
      new Map<number, unknown>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, Buffer.from(jwk.x as string, 'base64url')],
        [-3, Buffer.from(jwk.y as string, 'base64url')],
      ]),
    ),
  );
}

export class SoftwareAuthenticator {
  private readonly credentials: Credential[] = [];

  constructor(
    readonly origin: string = 'http://localhost:8750',
    readonly rpId: string = 'localhost',
  ) {}

  get credentialIds(): string[] {
    return this.credentials.map((c) => b64url(c.id));
  }

  private authData(rpId: string, flags: number, counter: number, attested?: Buffer): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), count, ...(attested ? [attested] : [])]);
  }

  /** navigator.credentials.create(): a new ES256 credential, as RegistrationResponseJSON. */
  create(options: { challenge: string; rp: { id?: string }; user: { id: string } }, o: CeremonyOverrides = {}): Record<string, unknown> {
    const { privateKey, publicKey } = freshKeyPair({ type: 'ec', namedCurve: 'P-256' });
    const id = randomBytes(16);
    const cose = coseEs256(publicKey);
    const credential: Credential = { id, privateKey, cose, userHandle: options.user.id, counter: 0 };
    const length = Buffer.alloc(2);
    length.writeUInt16BE(id.length);
    const attested = Buffer.concat([Buffer.alloc(16), length, id, cose]);
    const flags = FLAG_UP | (o.noUserVerification ? 0 : FLAG_UV) | FLAG_AT;
    const authData = this.authData(o.rpId ?? options.rp.id ?? this.rpId, flags, 0, attested);
    const clientData = JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin: o.origin ?? this.origin, crossOrigin: false });
    const attestationObject = cbor.encode(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]));
    this.credentials.push(credential);
    return {
      id: b64url(id),
      rawId: b64url(id),
      type: 'public-key',
      response: { clientDataJSON: b64url(clientData), attestationObject: b64url(attestationObject), transports: ['internal'] },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** navigator.credentials.get(): an assertion over the options' challenge, as AuthenticationResponseJSON. */
  get(options: { challenge: string; rpId?: string; allowCredentials?: { id: string }[] }, o: CeremonyOverrides = {}): Record<string, unknown> {
    const allowed = options.allowCredentials?.map((c) => c.id) ?? [];
    const wanted = o.credentialId ?? allowed.find((id) => this.credentialIds.includes(id)) ?? this.credentialIds[this.credentialIds.length - 1];
    const credential = this.credentials.find((c) => b64url(c.id) === wanted);
    if (!credential) throw new Error('software authenticator: no matching credential');
    credential.counter = o.counter ?? credential.counter + 1;
    const flags = FLAG_UP | (o.noUserVerification ? 0 : FLAG_UV);
    const authData = this.authData(o.rpId ?? options.rpId ?? this.rpId, flags, credential.counter);
    const clientData = JSON.stringify({ type: 'webauthn.get', challenge: options.challenge, origin: o.origin ?? this.origin, crossOrigin: false });
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), credential.privateKey);
    return {
      id: b64url(credential.id),
      rawId: b64url(credential.id),
      type: 'public-key',
      response: { clientDataJSON: b64url(clientData), authenticatorData: b64url(authData), signature: b64url(signature), userHandle: credential.userHandle },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }
}
