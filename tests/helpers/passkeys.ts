import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';

/** Authenticator data flags (WebAuthn §6.1). */
export const FLAG = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40 } as const;

interface StoredCredential {
  id: Buffer;
  privateKey: KeyObject;
  counter: number;
  rpId: string;
  userHandle: string;
}

export interface CeremonyOptions {
  /** The origin the "browser" writes into clientDataJSON. */
  origin?: string;
  /** The RP ID whose SHA-256 goes into the authenticator data. */
  rpId?: string;
  /** Flags to drop (e.g. FLAG.UV for an authenticator that did not verify the user). */
  withoutFlags?: number;
  /** Sign with this counter instead of the next one. */
  counter?: number;
  /** Answer this challenge instead of the options' one. */
  challenge?: string;
  /** Use this credential (base64url id) instead of the first one registered for the RP. */
  credentialId?: string;
}

/**
 * A software WebAuthn authenticator for the tests: P-256 keys from node:crypto, `none`
 * attestation, a CBOR attestation object, authenticator data with flags and a counter, and
 * ES256 signatures over authData ‖ SHA-256(clientDataJSON), exactly as a browser hands them over.
 */
export class SoftAuthenticator {
  readonly credentials: StoredCredential[] = [];

  constructor(
    readonly defaults: { origin: string; rpId: string },
    readonly aaguid: Buffer = Buffer.alloc(16),
    /** Counter step per assertion; 0 for an authenticator that never counts. */
    readonly counterStep = 1,
  ) {}

  /** navigator.credentials.create(): the RegistrationResponseJSON for `options`. */
  create(options: { challenge: string; user: { id: string } }, ceremony: CeremonyOptions = {}) {
    const rpId = ceremony.rpId ?? this.defaults.rpId;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const cose = isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x ?? '', 'base64url')],
        [-3, Buffer.from(jwk.y ?? '', 'base64url')],
      ]),
    );
    const id = randomBytes(32);
    const credential: StoredCredential = {
      id,
      privateKey,
      counter: ceremony.counter ?? 0,
      rpId,
      userHandle: options.user.id,
    };
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(id.length);
    const authData = Buffer.concat([
      this.#authDataHead(
        rpId,
        FLAG.UP | FLAG.UV | FLAG.BE | FLAG.AT,
        ceremony.withoutFlags,
        credential.counter,
      ),
      this.aaguid,
      idLength,
      id,
      Buffer.from(cose),
    ]);
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Uint8Array | Map<string, string>>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, string>()],
        ['authData', authData],
      ]),
    );
    this.credentials.push(credential);
    return {
      id: id.toString('base64url'),
      rawId: id.toString('base64url'),
      type: 'public-key' as const,
      clientExtensionResults: {},
      authenticatorAttachment: 'platform' as const,
      response: {
        clientDataJSON: this.#clientData(
          'webauthn.create',
          ceremony.challenge ?? options.challenge,
          ceremony,
        ),
        attestationObject: Buffer.from(attestationObject).toString('base64url'),
        transports: ['internal' as const],
      },
    };
  }

  /** navigator.credentials.get(): the AuthenticationResponseJSON for `options`. */
  get(options: { challenge: string }, ceremony: CeremonyOptions = {}) {
    const rpId = ceremony.rpId ?? this.defaults.rpId;
    const credential = ceremony.credentialId
      ? this.credentials.find((c) => c.id.toString('base64url') === ceremony.credentialId)
      : this.credentials[0];
    if (!credential) throw new Error('no credential registered in this authenticator');
    credential.counter = ceremony.counter ?? credential.counter + this.counterStep;
    const authData = this.#authDataHead(
      rpId,
      FLAG.UP | FLAG.UV | FLAG.BE,
      ceremony.withoutFlags,
      credential.counter,
    );
    const clientDataJSON = this.#clientData(
      'webauthn.get',
      ceremony.challenge ?? options.challenge,
      ceremony,
    );
    const clientDataHash = createHash('sha256').update(Buffer.from(clientDataJSON, 'base64url')).digest();
    const signature = sign('sha256', Buffer.concat([authData, clientDataHash]), credential.privateKey);
    return {
      id: credential.id.toString('base64url'),
      rawId: credential.id.toString('base64url'),
      type: 'public-key' as const,
      clientExtensionResults: {},
      authenticatorAttachment: 'platform' as const,
      response: {
        clientDataJSON,
        authenticatorData: authData.toString('base64url'),
        signature: signature.toString('base64url'),
        userHandle: credential.userHandle,
      },
    };
  }

  #authDataHead(rpId: string, flags: number, without = 0, counter = 0): Buffer {
    const head = Buffer.alloc(37);
    createHash('sha256').update(rpId).digest().copy(head, 0);
    head.writeUInt8(flags & ~without, 32);
    head.writeUInt32BE(counter, 33);
    return head;
  }

  #clientData(type: string, challenge: string, ceremony: CeremonyOptions): string {
    const origin = ceremony.origin ?? this.defaults.origin;
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false })).toString('base64url');
  }
}
