import { randomBytes } from 'node:crypto';
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { decodeClientDataJSON } from '@simplewebauthn/server/helpers';
import { appendAudit } from '../audit/append.js';
import { constantTimeEqual, sha256 } from '../crypto/tokens.js';
import { fail, type Result } from '../errors/codes.js';
import {
  CHALLENGE_TTL_MS,
  challengeExpiry,
  counterVerdict,
  DEFAULT_PASSKEY_NAME,
  type RelyingParty,
} from './model.js';
import type { Passkey, PasskeyStore } from './store.js';
import type { ChallengePurpose } from './tables.js';
import type { AuthenticationResponse, RegistrationResponse } from './wire.js';

export interface PasskeyMeta {
  ip: string;
  now: Date;
}

/** Who asks for an assertion: anyone (sign-in), or one session of one user (step-up). */
export type AssertionFor = { purpose: 'login' } | { purpose: 'step_up'; sessionId: string; userId: string };

const STALE_CHALLENGE = 'The passkey challenge is unknown, used, expired or not yours; ask for new options.';

/**
 * WebAuthn ceremonies over @simplewebauthn/server. Challenges are 32 random bytes, kept only as
 * SHA-256, live five minutes and are used once (used up before the response is judged, so a
 * failed attempt cannot be retried with the same challenge). User verification is required, so a
 * passkey is both factors.
 */
export class PasskeyService {
  constructor(
    private readonly store: PasskeyStore,
    private readonly rp: RelyingParty,
  ) {}

  list(userId: string): Promise<Passkey[]> {
    return this.store.listForUser(userId);
  }

  async registrationOptions(
    session: { id: string },
    user: { id: string; email: string; name: string },
    now: Date,
  ): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await this.store.listForUser(user.id);
    const options = await generateRegistrationOptions({
      rpName: this.rp.name,
      rpID: this.rp.id,
      userName: user.email,
      userDisplayName: user.name,
      userID: Buffer.from(user.id.replaceAll('-', ''), 'hex'),
      challenge: randomBytes(32),
      timeout: CHALLENGE_TTL_MS,
      attestationType: 'none',
      // The same authenticator twice would be two rows for one key: the browser refuses it.
      excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports })),
      authenticatorSelection: {
        residentKey: 'required',
        requireResidentKey: true,
        userVerification: 'required',
      },
    });
    await this.storeChallenge('register', options.challenge, { sessionId: session.id, userId: user.id }, now);
    return options;
  }

  async register(
    session: { id: string },
    userId: string,
    input: { response: RegistrationResponse; name?: string | undefined },
    meta: PasskeyMeta,
  ): Promise<Result<{ passkey: Passkey }>> {
    const challenge = clientChallenge(input.response.response.clientDataJSON);
    if (!challenge) return fail('VALIDATION_FAILED', 'clientDataJSON is not valid.');
    const used = await this.store.useChallenge(
      { purpose: 'register', sessionId: session.id, challengeHash: sha256(challenge) },
      meta.now,
    );
    if (!used) return fail('VALIDATION_FAILED', STALE_CHALLENGE);
    let verification: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
    try {
      verification = await verifyRegistrationResponse({
        // The wire schema checked the shape; the library reads only the fields the JSON type names.
        response: input.response as RegistrationResponseJSON,
        expectedChallenge: challenge,
        expectedOrigin: this.rp.origins,
        expectedRPID: this.rp.id,
        requireUserVerification: true,
      });
    } catch (error) {
      return fail('VALIDATION_FAILED', `The passkey was refused: ${(error as Error).message}`);
    }
    if (!verification.verified) return fail('VALIDATION_FAILED', 'The passkey was refused.');
    const info = verification.registrationInfo;
    return this.store.db.transaction().execute(async (tx) => {
      const passkey = await this.store.insert(tx, {
        userId,
        credentialId: info.credential.id,
        publicKey: info.credential.publicKey,
        signCount: info.credential.counter,
        transports: input.response.response.transports ?? [],
        backupEligible: info.credentialDeviceType === 'multiDevice',
        backedUp: info.credentialBackedUp,
        aaguid: info.aaguid,
        name: input.name ?? DEFAULT_PASSKEY_NAME,
        createdAt: meta.now,
      });
      if (!passkey) return fail('CONFLICT', 'This passkey is registered already.');
      await appendAudit(tx, {
        userId,
        action: 'passkey.registered',
        actor: { type: 'user', id: userId },
        target: { type: 'passkey', id: passkey.id },
        metadata: { name: passkey.name, aaguid: passkey.aaguid },
        ip: meta.ip,
        now: meta.now,
      });
      return { ok: true as const, passkey };
    });
  }

  async rename(
    userId: string,
    id: string,
    name: string,
    meta: PasskeyMeta,
  ): Promise<Result<{ passkey: Passkey }>> {
    return this.store.db.transaction().execute(async (tx) => {
      const current = await this.store.lockOwned(tx, userId, id);
      if (!current) return fail('NOT_FOUND');
      const passkey = await this.store.rename(tx, id, name);
      await appendAudit(tx, {
        userId,
        action: 'passkey.renamed',
        actor: { type: 'user', id: userId },
        target: { type: 'passkey', id },
        metadata: { from: current.name, to: name },
        ip: meta.ip,
        now: meta.now,
      });
      return { ok: true as const, passkey };
    });
  }

  /** 409 for the last passkey of someone whose org requires passkeys: they could not step up there. */
  async remove(userId: string, id: string, meta: PasskeyMeta): Promise<Result<object>> {
    return this.store.db.transaction().execute(async (tx) => {
      const count = await this.store.lockCountForUser(tx, userId);
      const current = await this.store.lockOwned(tx, userId, id);
      if (!current) return fail('NOT_FOUND');
      if (count === 1) {
        const orgs = await this.store.orgsRequiringPasskey(tx, userId);
        if (orgs.length > 0) {
          return fail('CONFLICT', 'This is your last passkey and an organization of yours requires one.', {
            extra: { orgs },
          });
        }
      }
      await this.store.delete(tx, id);
      await appendAudit(tx, {
        userId,
        action: 'passkey.removed',
        actor: { type: 'user', id: userId },
        target: { type: 'passkey', id },
        metadata: { name: current.name },
        ip: meta.ip,
        now: meta.now,
      });
      return { ok: true as const };
    });
  }

  /**
   * Assertion options: for sign-in no credential list (discoverable credentials: the browser
   * offers the account's passkeys, no email asked); for step-up the user's own passkeys.
   */
  async assertionOptions(
    forWhom: AssertionFor,
    now: Date,
  ): Promise<{ challengeId: string; options: PublicKeyCredentialRequestOptionsJSON }> {
    const allow =
      forWhom.purpose === 'step_up'
        ? (await this.store.listForUser(forWhom.userId)).map((p) => ({
            id: p.credentialId,
            transports: p.transports,
          }))
        : [];
    const options = await generateAuthenticationOptions({
      rpID: this.rp.id,
      challenge: randomBytes(32),
      timeout: CHALLENGE_TTL_MS,
      userVerification: 'required',
      allowCredentials: allow,
    });
    const challengeId = await this.storeChallenge(
      forWhom.purpose,
      options.challenge,
      forWhom.purpose === 'step_up' ? { sessionId: forWhom.sessionId, userId: forWhom.userId } : null,
      now,
    );
    return { challengeId, options };
  }

  /**
   * Judges an assertion: the challenge (used up first), the credential (a step-up accepts only
   * the session user's own), origin, RP ID hash, user verification and signature (the library),
   * then the counter. A failure with a known credential is audited on its user's chain.
   */
  async verifyAssertion(
    forWhom: AssertionFor,
    challengeId: string,
    response: AuthenticationResponse,
    meta: PasskeyMeta,
  ): Promise<Result<{ passkey: Passkey }>> {
    const expected = await this.store.useChallenge(
      {
        purpose: forWhom.purpose,
        sessionId: forWhom.purpose === 'step_up' ? forWhom.sessionId : null,
        id: challengeId,
      },
      meta.now,
    );
    if (!expected) return fail('INVALID_CREDENTIALS', STALE_CHALLENGE);
    const passkey = await this.store.byCredentialId(response.id);
    if (!passkey || (forWhom.purpose === 'step_up' && passkey.userId !== forWhom.userId)) {
      return fail('INVALID_CREDENTIALS', 'This passkey is not registered to the account.');
    }
    let verification: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
    try {
      verification = await verifyAuthenticationResponse({
        response: response as AuthenticationResponseJSON,
        expectedChallenge: (challenge) => constantTimeEqual(sha256(challenge), expected),
        expectedOrigin: this.rp.origins,
        expectedRPID: this.rp.id,
        // Counter 0 turns the library's own counter check off: it runs before the signature check,
        // and a clone is only worth an audit row once the signature proves the key.
        credential: {
          id: passkey.credentialId,
          publicKey: passkey.publicKey,
          counter: 0,
          transports: passkey.transports,
        },
        requireUserVerification: true,
      });
    } catch (error) {
      return this.refused(passkey, forWhom, (error as Error).message, meta);
    }
    if (!verification.verified) return this.refused(passkey, forWhom, 'bad signature', meta);
    const received = verification.authenticationInfo.newCounter;
    if (counterVerdict(passkey.signCount, received) === 'clone_suspected') {
      await this.audit(passkey.userId, 'passkey.clone_suspected', passkey.id, meta, {
        storedCount: passkey.signCount,
        receivedCount: received,
      });
      return fail('INVALID_CREDENTIALS', 'This passkey was refused: its signature counter went backwards.');
    }
    const recorded = await this.store.recordUse(passkey.id, {
      storedCount: passkey.signCount,
      newCount: received,
      backedUp: verification.authenticationInfo.credentialBackedUp,
      now: meta.now,
    });
    // Another assertion with the same counter got in first: one of the two is a replay or a clone.
    if (!recorded)
      return fail('INVALID_CREDENTIALS', 'This passkey was refused: its signature counter went backwards.');
    return { ok: true, passkey: { ...passkey, signCount: received, lastUsedAt: meta.now } };
  }

  private async refused(
    passkey: Passkey,
    forWhom: AssertionFor,
    reason: string,
    meta: PasskeyMeta,
  ): Promise<Result<never>> {
    const action = forWhom.purpose === 'login' ? 'login.failed' : 'step_up.failed';
    await this.audit(passkey.userId, action, passkey.id, meta, { method: 'passkey', reason });
    return fail('INVALID_CREDENTIALS', 'The passkey was refused.');
  }

  private audit(
    userId: string,
    action: 'login.failed' | 'step_up.failed' | 'passkey.clone_suspected',
    passkeyId: string,
    meta: PasskeyMeta,
    metadata: Record<string, string | number>,
  ): Promise<void> {
    return this.store.db.transaction().execute(async (tx) => {
      await appendAudit(tx, {
        userId,
        action,
        actor: { type: 'user', id: action === 'login.failed' ? null : userId },
        target: { type: 'passkey', id: passkeyId },
        metadata,
        ip: meta.ip,
        now: meta.now,
      });
    });
  }

  private storeChallenge(
    purpose: ChallengePurpose,
    challenge: string,
    owner: { sessionId: string; userId: string } | null,
    now: Date,
  ): Promise<string> {
    return this.store.insertChallenge({
      purpose,
      challengeHash: sha256(challenge),
      sessionId: owner?.sessionId ?? null,
      userId: owner?.userId ?? null,
      expiresAt: challengeExpiry(now),
      now,
    });
  }
}

/** The challenge the client signed, from clientDataJSON; null when it is not JSON with one. */
function clientChallenge(clientDataJSON: string): string | null {
  try {
    const { challenge } = decodeClientDataJSON(clientDataJSON);
    return typeof challenge === 'string' && challenge.length > 0 ? challenge : null;
  } catch {
    return null;
  }
}
