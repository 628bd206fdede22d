import * as client from 'openid-client';
import { normalizeEmail } from '../accounts/email.js';
import type { ClientMeta, LoginService, LoginSuccess } from '../accounts/login.js';
import { appendAudit } from '../audit/append.js';
import type { Tx } from '../bus/outbox.js';
import { type KeyRing, open, seal } from '../crypto/seal.js';
import { randomToken, sha256Hex } from '../crypto/tokens.js';
import { type Failure, fail, type Result } from '../errors/codes.js';
import type { Logger } from '../log/logger.js';
import { queueMail } from '../mail/queue.js';
import { renderMail } from '../mail/templates.js';
import { isId, membershipActive } from '../orgs/model.js';
import { forgetRemoval, removalHold, spendReturnInvitation } from '../orgs/removals.js';
import type { OutboundFetch } from '../outbound/client.js';
import { suspendedByScim } from '../scim/suspension.js';
import '../orgs/tables.js';
import type { DomainStore } from './domain-store.js';
import { emailDomain } from './domains-model.js';
import { createExternalUser } from './external-users.js';
import { emailDomainAllowed, issuerAllowed, linkerMatches, safeReturnTo, ssoSatisfied } from './model.js';
import { oidcConfiguration, oidcErrorReason, verifyIdTokenSignature } from './oidc-client.js';
import { samlSpUrls } from './saml-urls.js';
import { signState, stateMatches, verifyState } from './state-cookie.js';
import type { SsoConfig, SsoStore } from './store.js';

export interface SsoDeps {
  store: SsoStore;
  login: Pick<LoginService, 'completeLogin'>;
  stateKey: () => Promise<Buffer>;
  sealKeys: () => Promise<KeyRing>;
  appUrl: string;
  appOrigins: readonly string[];
  /** Plain-http loopback issuers allowed (embedded runtime only, never on Google Cloud). */
  allowLoopbackHttp: boolean;
  /** Every request to a provider (discovery, JWKS, token, userinfo) goes through this client. */
  fetch: OutboundFetch;
  logger: Logger;
  /** Verified domains: only the org holding an address's domain may ask to link that account. */
  domains: DomainStore;
  mailKeys: () => Promise<KeyRing>;
}

/** How long the mail that confirms a link of an existing account stays usable. */
export const LINK_CONFIRMATION_TTL_MS = 24 * 60 * 60 * 1000;

export interface SsoSettingsInput {
  issuerUrl: string;
  clientId: string;
  /** Absent on an update: keep the stored secret. */
  clientSecret?: string;
  allowedDomains: string[];
  defaultRole: SsoConfig['defaultRole'];
  passwordLoginAllowed: boolean;
}

export interface SsoSettingsView {
  issuerUrl: string;
  clientId: string;
  allowedDomains: string[];
  defaultRole: SsoConfig['defaultRole'];
  passwordLoginAllowed: boolean;
  redirectUri: string;
  protocol: 'oidc' | 'saml';
  /** SAML: what to register at the IdP (our entity ID, ACS, metadata URL) and what we took from its metadata. */
  saml: {
    entityId: string;
    acsUrl: string;
    metadataUrl: string;
    idpEntityId: string;
    idpSsoUrl: string;
  } | null;
  updatedAt: Date;
}

/** The allowed domains as stored: lower case, once each, sorted. */
export function normalizedDomains(domains: readonly string[]): string[] {
  return [...new Set(domains.map((d) => d.toLowerCase()))].sort();
}

/**
 * Like the allowlist's lock-out check: SSO-only would refuse the very session that turns it on,
 * unless that session was started through this org's SSO.
 */
export function ssoOnlyLockOut(
  orgId: string,
  passwordLoginAllowed: boolean,
  boundOrgId: string | null,
): Failure | null {
  if (passwordLoginAllowed || ssoSatisfied({ id: orgId, ssoRequired: true }, boundOrgId)) return null;
  return fail(
    'CONFLICT',
    "Turn SSO-only on from a session you started through this organization's single sign-on, so you know it lets you in.",
  );
}

type Refusal = { ok: false; reason: string; failure: Failure };

function refusal(reason: string, failure: Failure): Refusal {
  return { ok: false, reason, failure };
}

/** The provider's host for audit rows; a SAML entity ID that is no URL (a URN) as it is. */
function providerLabel(issuer: string): string {
  try {
    return new URL(issuer).host || issuer;
  } catch {
    return issuer;
  }
}

const DISCOVERY_TTL_MS = 10 * 60_000;
const secretContext = (orgId: string) => `sso-client-secret:${orgId}`;

/**
 * Per-org OIDC single sign-on: settings (client secret sealed with AES-256-GCM, bound to the org),
 * the authorization-code + PKCE start, and the callback that checks everything before a session.
 */
export class SsoService {
  private readonly discovered = new Map<
    string,
    { updatedAt: number; fetchedAt: number; value: Promise<client.Configuration> }
  >();

  constructor(private readonly deps: SsoDeps) {}

  get redirectUri(): string {
    return `${this.deps.appUrl}/api/login/sso/callback`;
  }

  async view(orgId: string): Promise<SsoSettingsView | null> {
    const config = await this.deps.store.byOrgId(orgId);
    return config ? this.toView(config) : null;
  }

  private toView(config: SsoConfig): SsoSettingsView {
    return {
      issuerUrl: config.issuerUrl,
      clientId: config.clientId,
      allowedDomains: config.allowedDomains,
      defaultRole: config.defaultRole,
      passwordLoginAllowed: config.passwordLoginAllowed,
      redirectUri: this.redirectUri,
      protocol: config.protocol,
      saml: config.saml
        ? {
            ...samlSpUrls(this.deps.appUrl, config.orgSlug),
            idpEntityId: config.issuerUrl,
            idpSsoUrl: config.saml.ssoUrl,
          }
        : null,
      updatedAt: config.updatedAt,
    };
  }

  /** Saves the org's settings after checking the provider answers discovery with exactly that issuer. */
  async configure(
    orgId: string,
    actor: { userId: string; ip: string | null; boundOrgId: string | null },
    input: SsoSettingsInput,
    now: Date,
  ): Promise<Result<{ settings: SsoSettingsView }>> {
    const lockOut = ssoOnlyLockOut(orgId, input.passwordLoginAllowed, actor.boundOrgId);
    if (lockOut) return lockOut;
    if (!issuerAllowed(input.issuerUrl, this.deps.allowLoopbackHttp)) {
      return fail('VALIDATION_FAILED', 'The issuer must be an https URL without query or fragment.', {
        issues: [{ path: 'issuerUrl', message: 'must be an https URL' }],
      });
    }
    const ring = await this.deps.sealKeys();
    const existing = await this.deps.store.byOrgId(orgId);
    let clientSecret = input.clientSecret;
    if (clientSecret === undefined && existing) {
      clientSecret = open(ring, existing.clientSecretSealed, secretContext(orgId))?.toString('utf8');
    }
    if (clientSecret === undefined) {
      return fail('VALIDATION_FAILED', 'The client secret is required the first time.', {
        issues: [{ path: 'clientSecret', message: 'required' }],
      });
    }
    try {
      await oidcConfiguration({
        issuerUrl: input.issuerUrl,
        clientId: input.clientId,
        clientSecret,
        allowInsecure: this.deps.allowLoopbackHttp,
        fetch: this.deps.fetch,
      });
    } catch (error) {
      // One answer whatever happened (closed port, some other server, refused address), so this
      // route cannot map networks; what happened is in our logs.
      this.deps.logger.warn('sso discovery refused', { orgId, reason: oidcErrorReason(error) });
      return fail('VALIDATION_FAILED', 'The identity provider could not be reached.', {
        issues: [{ path: 'issuerUrl', message: 'could not be reached' }],
      });
    }
    const allowedDomains = normalizedDomains(input.allowedDomains);
    const settings = await this.save(
      {
        org_id: orgId,
        issuer_url: input.issuerUrl,
        client_id: input.clientId,
        client_secret_sealed: seal(ring, clientSecret, secretContext(orgId)),
        allowed_domains: allowedDomains,
        default_role: input.defaultRole,
        password_login_allowed: input.passwordLoginAllowed,
        updated_by: actor.userId,
      },
      actor,
      {
        issuerUrl: input.issuerUrl,
        clientId: input.clientId,
        clientSecretChanged: input.clientSecret !== undefined,
        allowedDomains,
        defaultRole: input.defaultRole,
        passwordLoginAllowed: input.passwordLoginAllowed,
      },
      now,
    );
    this.discovered.delete(orgId);
    return { ok: true, settings };
  }

  /**
   * Stores settings of either protocol with their `policy.updated` row, in one transaction.
   * Identities the previous provider vouched for mean nothing at the new one: a subject is only
   * unique per issuer, and the new provider must not inherit the old one's accounts.
   */
  async save(
    row: Parameters<SsoStore['upsert']>[1],
    actor: { userId: string; ip: string | null },
    audited: Record<string, string | number | boolean | string[]>,
    now: Date,
  ): Promise<SsoSettingsView> {
    const orgId = row.org_id;
    await this.deps.store.db.transaction().execute(async (tx) => {
      await this.deps.store.upsert(tx, row, now);
      const identitiesDropped = await this.deps.store.dropOtherIssuers(tx, orgId, row.issuer_url);
      await appendAudit(tx, {
        orgId,
        action: 'policy.updated',
        actor: { type: 'user', id: actor.userId },
        metadata: { sso: audited, ...(identitiesDropped > 0 ? { identitiesDropped } : {}) },
        ip: actor.ip,
        now,
      });
    });
    const saved = await this.deps.store.byOrgId(orgId);
    if (!saved) throw new Error('sso settings vanished after saving');
    return this.toView(saved);
  }

  /**
   * Turns the org's SSO off, unless its policy requires SSO: with no IdP, every account at its
   * verified domains would be sent to an SSO that no longer exists. The policy is read under the
   * org's row lock, the lock an owner requiring SSO takes too, so the two orders cannot cross.
   */
  async remove(
    orgId: string,
    actor: { userId: string; ip: string | null },
    now: Date,
  ): Promise<'removed' | 'absent' | 'required'> {
    const removed = await this.deps.store.db.transaction().execute(async (tx) => {
      const org = await tx
        .selectFrom('orgs')
        .select('enforce_sso')
        .where('id', '=', orgId)
        .forUpdate()
        .executeTakeFirst();
      if (org?.enforce_sso) return 'required' as const;
      const gone = await this.deps.store.remove(tx, orgId);
      if (gone) {
        await appendAudit(tx, {
          orgId,
          action: 'policy.updated',
          actor: { type: 'user', id: actor.userId },
          metadata: { sso: null },
          ip: actor.ip,
          now,
        });
      }
      return gone ? ('removed' as const) : ('absent' as const);
    });
    this.discovered.delete(orgId);
    return removed;
  }

  private async client(config: SsoConfig, now: Date): Promise<client.Configuration> {
    const cached = this.discovered.get(config.orgId);
    if (
      cached &&
      cached.updatedAt === config.updatedAt.getTime() &&
      now.getTime() - cached.fetchedAt < DISCOVERY_TTL_MS
    ) {
      return cached.value;
    }
    const ring = await this.deps.sealKeys();
    const secret = open(ring, config.clientSecretSealed, secretContext(config.orgId));
    if (!secret) throw new Error(`the sealed SSO client secret of org ${config.orgId} does not open`);
    const value = oidcConfiguration({
      issuerUrl: config.issuerUrl,
      clientId: config.clientId,
      clientSecret: secret.toString('utf8'),
      allowInsecure: this.deps.allowLoopbackHttp,
      fetch: this.deps.fetch,
    });
    value.catch(() => this.discovered.delete(config.orgId));
    this.discovered.set(config.orgId, {
      updatedAt: config.updatedAt.getTime(),
      fetchedAt: now.getTime(),
      value,
    });
    return value;
  }

  /** Step one: the provider's authorization URL (code + PKCE S256, state, nonce) and the signed state cookie. */
  async start(
    orgSlug: string,
    returnTo: string | undefined,
    meta: { ip: string; now: Date },
  ): Promise<Result<{ location: string; stateCookie: string }>> {
    const config = await this.deps.store.bySlug(orgSlug);
    if (!config) return fail('NOT_FOUND', 'This organization has no single sign-on.');
    return this.authorization(config, returnTo, meta);
  }

  /**
   * "Link your <org> identity": the same redirect to the org's provider, started by a signed-in
   * (the route requires a personal, stepped-up session) user; the state cookie names that session,
   * and the callback links the identity the provider answers with to that user, and to no one else.
   */
  async startLink(
    orgId: string,
    linker: { userId: string; sessionId: string },
    returnTo: string | undefined,
    meta: { ip: string; now: Date },
  ): Promise<Result<{ location: string; stateCookie: string }>> {
    const config = isId(orgId) ? await this.deps.store.byOrgId(orgId) : null;
    if (!config) return fail('NOT_FOUND', 'This organization has no single sign-on.');
    return this.authorization(config, returnTo, meta, linker);
  }

  private async authorization(
    config: SsoConfig,
    returnTo: string | undefined,
    meta: { ip: string; now: Date },
    link?: { userId: string; sessionId: string },
  ): Promise<Result<{ location: string; stateCookie: string }>> {
    if (config.protocol !== 'oidc') {
      return fail(
        'CONFLICT',
        "This organization's single sign-on uses SAML; linking works with OpenID Connect only.",
      );
    }
    const target = safeReturnTo(returnTo, this.deps.appOrigins, this.deps.appUrl);
    if (!target.ok) {
      await this.refused(config.orgId, 'return_to_not_allowed', meta);
      return fail('VALIDATION_FAILED', 'returnTo must be a URL on one of the configured app origins.', {
        issues: [{ path: 'returnTo', message: 'not an allowed app origin' }],
      });
    }
    let oidc: client.Configuration;
    try {
      oidc = await this.client(config, meta.now);
    } catch (error) {
      this.deps.logger.warn('sso discovery failed', { orgId: config.orgId, reason: oidcErrorReason(error) });
      return fail('INTERNAL', "The organization's identity provider could not be reached; try again later.");
    }
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(oidc, {
      redirect_uri: this.redirectUri,
      scope: 'openid email profile',
      response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const stateCookie = signState(
      await this.deps.stateKey(),
      { orgId: config.orgId, state, nonce, codeVerifier, returnTo: target.url, ...(link ? { link } : {}) },
      meta.now,
    );
    return { ok: true, location: url.href, stateCookie };
  }

  /**
   * Step two. The cookie must be ours (HMAC), unexpired, and its state equal the query's; a link
   * must come back to the very session that started it. Then openid-client redeems the code with
   * the PKCE verifier and checks the ID token's pinned algorithm (never `none`), issuer, audience =
   * client id, expiry and our nonce; we add the signature against the provider's JWKS. Only then
   * the link, or for a sign-in the email domain, the account and the membership. `login` is null
   * after a link: the linking session stays the caller's session.
   */
  async callback(
    stateCookie: string | undefined,
    callbackQuery: string,
    meta: ClientMeta,
    current: { sessionId: string; userId: string } | null,
  ): Promise<Result<{ login: LoginSuccess | null; returnTo: string }>> {
    const saved = verifyState(await this.deps.stateKey(), stateCookie, meta.now);
    if (!saved) {
      return fail('UNAUTHENTICATED', 'This sign-in expired or was not started in this browser; start again.');
    }
    const params = new URLSearchParams(callbackQuery);
    if (!stateMatches(saved.state, params.get('state') ?? undefined)) {
      await this.refused(saved.orgId, 'state_mismatch', meta);
      return fail('UNAUTHENTICATED', 'The sign-in answer does not belong to this sign-in; start again.');
    }
    if (saved.link && !linkerMatches(saved.link, current)) {
      await this.refused(saved.orgId, 'link_session_mismatch', meta);
      return fail(
        'UNAUTHENTICATED',
        'Linking must finish in the session that started it; sign in and start again.',
      );
    }
    const config = await this.deps.store.byOrgId(saved.orgId);
    // A SAML org's issuer is an entity ID, never a URL to run OIDC discovery against.
    if (config?.protocol !== 'oidc')
      return fail('NOT_FOUND', 'This organization no longer uses OpenID Connect sign-on.');

    let claims: { sub: string; email?: unknown; email_verified?: unknown; name?: unknown };
    try {
      const oidc = await this.client(config, meta.now);
      const currentUrl = new URL(this.redirectUri);
      currentUrl.search = params.toString();
      const tokens = await client.authorizationCodeGrant(oidc, currentUrl, {
        pkceCodeVerifier: saved.codeVerifier,
        expectedState: saved.state,
        expectedNonce: saved.nonce,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims();
      if (!idClaims || !tokens.id_token) throw new Error('no ID token');
      await verifyIdTokenSignature(oidc, tokens.id_token, this.deps.fetch);
      claims = idClaims;
      if (claims.email === undefined && tokens.access_token) {
        const info = await client.fetchUserInfo(oidc, tokens.access_token, idClaims.sub);
        claims = { ...info, sub: idClaims.sub };
      }
    } catch (error) {
      const reason = oidcErrorReason(error);
      this.deps.logger.info('sso callback refused', { orgId: config.orgId, reason });
      await this.refused(config.orgId, 'token_rejected', meta, reason);
      return fail(
        'INVALID_CREDENTIALS',
        "The identity provider's answer did not pass our checks; start again.",
      );
    }

    const { link } = saved;
    if (link) {
      const linked = await this.deps.store.db
        .transaction()
        .execute((tx) => this.linkIdentity(tx, config, claims.sub, link.userId, meta));
      if (!linked.ok) {
        await this.refused(config.orgId, linked.reason, meta);
        return linked.failure;
      }
      return { ok: true, login: null, returnTo: saved.returnTo };
    }

    if (typeof claims.email !== 'string' || claims.email_verified !== true) {
      await this.refused(config.orgId, 'email_unverified', meta);
      return fail('INVALID_CREDENTIALS', 'Your identity provider has not verified your email address.');
    }
    const login = await this.signInVerified(
      config,
      { subject: claims.sub, email: claims.email, name: claims.name },
      meta,
    );
    if (!login.ok) return login;
    return { ok: true, login, returnTo: saved.returnTo };
  }

  /**
   * Where every verified provider answer (OIDC or SAML) ends: the email's domain, then the account
   * and membership (`provision`), then a session bound to the org.
   */
  async signInVerified(
    config: SsoConfig,
    identity: { subject: string; email: string; name: unknown },
    meta: ClientMeta,
  ): Promise<Result<LoginSuccess>> {
    if (!emailDomainAllowed(identity.email, config.allowedDomains)) {
      await this.refused(config.orgId, 'email_domain_not_allowed', meta);
      return fail('INVALID_CREDENTIALS', "Your email domain is not allowed by this organization's sign-on.");
    }
    const provisioned = await this.deps.store.db
      .transaction()
      .execute((tx) => this.provision(tx, config, identity, meta));
    if (!provisioned.ok) {
      await this.refused(config.orgId, provisioned.reason, meta);
      return provisioned.failure;
    }
    return this.deps.login.completeLogin(provisioned.user, meta, 'sso', { orgId: config.orgId });
  }

  /**
   * The account for a verified provider identity, and its membership, in one transaction with the
   * `sso.login` audit row. A subject linked at this org's current issuer → its user. Otherwise a
   * new account, only for an address nobody has registered. An existing account is never taken by
   * its email: the org's provider asserts whatever its admin wants (the account's owner links it
   * from their own session instead, see `startLink`).
   */
  private async provision(
    tx: Tx,
    config: SsoConfig,
    identity: { subject: string; email: string; name: unknown },
    meta: ClientMeta,
  ): Promise<{ ok: true; user: { id: string; email: string; name: string } } | Refusal> {
    const { store } = this.deps;
    const key = { orgId: config.orgId, issuer: config.issuerUrl, subject: identity.subject };
    const userId = await store.identity(tx, key.orgId, key.issuer, key.subject);
    let user: { id: string; email: string; name: string };
    if (userId) {
      const row = await tx
        .selectFrom('users')
        .select(['id', 'email', 'name', 'disabled_at'])
        .where('id', '=', userId)
        .executeTakeFirstOrThrow();
      if (row.disabled_at)
        return refusal('disabled', fail('INVALID_CREDENTIALS', 'This account is disabled.'));
      user = { id: row.id, email: row.email, name: row.name };
    } else {
      const created = await createExternalUser(
        tx,
        { email: identity.email, name: typeof identity.name === 'string' ? identity.name : null },
        meta.now,
      );
      if (!created) {
        const confirming = await this.askOwnerToConfirm(tx, config, key, identity.email, meta.now);
        if (confirming) {
          return refusal(
            'link_confirmation_sent',
            fail(
              'INVALID_CREDENTIALS',
              `An account with this email already exists. We sent its owner a mail: the link in it lets ${config.orgSlug}'s single sign-on sign in to it; then sign in again.`,
              { extra: { requirement: 'confirm_link_by_mail' } },
            ),
          );
        }
        return refusal(
          'existing_account_not_linked',
          fail(
            'INVALID_CREDENTIALS',
            `An account with this email already exists. Sign in to it, then link your ${config.orgSlug} identity (POST /api/orgs/${config.orgId}/sso/link) to use single sign-on.`,
            { extra: { requirement: 'link_identity' } },
          ),
        );
      }
      user = created;
    }
    // An expired membership is no membership: SSO neither renews it nor signs into it.
    // Locked: a removal deleting this row meanwhile is waited for and then seen, so a sign-in that
    // read the membership before the removal committed cannot recreate it just in time afterwards.
    const current = await tx
      .selectFrom('memberships')
      .select('expires_at')
      .where('org_id', '=', config.orgId)
      .where('user_id', '=', user.id)
      .forUpdate()
      .executeTakeFirst();
    if (current && !membershipActive(current.expires_at, meta.now)) {
      return refusal(
        'membership_expired',
        fail(
          'INSUFFICIENT_ROLE',
          'Your membership in this organization has expired; ask an admin to renew it.',
        ),
      );
    }
    // The org's identity provider suspended them (SCIM `active: false`): only its re-activation
    // brings the membership back, not a sign-in it still lets through.
    if (!current && (await suspendedByScim(tx, config.orgId, user.id))) {
      return refusal(
        'scim_suspended',
        fail(
          'INSUFFICIENT_ROLE',
          'Your membership in this organization is suspended by its identity provider; ask an admin to restore it.',
        ),
      );
    }
    // An admin removed them: the identity provider still letting them in does not undo that; an
    // admin's invitation sent since does, and the membership made here is the one it offers (its
    // role and expiry, not SSO's default), spending it and clearing the hold.
    const hold = current ? null : await removalHold(tx, config.orgId, user.id, meta.now);
    if (hold && !hold.invitation) {
      return refusal(
        'removed_by_admin',
        fail(
          'INSUFFICIENT_ROLE',
          'An admin removed you from this organization; ask an admin to invite you again.',
        ),
      );
    }
    await store.link(tx, key, user.id, meta.now);
    const joined = await tx
      .insertInto('memberships')
      .values({
        org_id: config.orgId,
        user_id: user.id,
        role: hold?.invitation?.role ?? config.defaultRole,
        expires_at: hold?.invitation?.membershipExpiresAt ?? null,
        created_at: meta.now,
      })
      .onConflict((oc) => oc.columns(['org_id', 'user_id']).doNothing())
      .returning(['user_id', 'role'])
      .executeTakeFirst();
    if (joined) {
      if (hold?.invitation) await spendReturnInvitation(tx, hold.invitation, user.id, meta.now);
      await forgetRemoval(tx, config.orgId, user.id);
      await appendAudit(tx, {
        orgId: config.orgId,
        action: 'member.joined',
        actor: { type: 'user', id: user.id },
        target: { type: 'user', id: user.id },
        metadata: {
          role: joined.role,
          via: 'sso',
          ...(hold?.invitation ? { invitationId: hold.invitation.id } : {}),
        },
        ip: meta.ip,
        now: meta.now,
      });
    }
    await appendAudit(tx, {
      orgId: config.orgId,
      action: 'sso.login',
      actor: { type: 'user', id: user.id },
      target: { type: 'user', id: user.id },
      metadata: {
        provider: providerLabel(config.issuerUrl),
        outcome: 'succeeded',
        provisioned: !!joined,
        accountCreated: !userId,
      },
      ip: meta.ip,
      now: meta.now,
    });
    return { ok: true, user };
  }

  /**
   * An existing account at a domain this org verified: the org owns the address, but its IdP's word
   * alone still takes no account. The account's owner gets a mail whose link confirms the link
   * (`confirmLink`); only then does this identity sign them in. Null when the domain is not this
   * org's, or the address was never confirmed (someone may have registered it to wait for its owner).
   */
  private async askOwnerToConfirm(
    tx: Tx,
    config: SsoConfig,
    key: { orgId: string; issuer: string; subject: string },
    email: string,
    now: Date,
  ): Promise<boolean> {
    const domain = emailDomain(email);
    const holder = domain ? await this.deps.domains.holder(domain, tx) : null;
    if (holder?.orgId !== config.orgId) return false;
    const user = await tx
      .selectFrom('users')
      .select(['id', 'email', 'email_verified_at', 'disabled_at'])
      .where('email_normalized', '=', normalizeEmail(email))
      .executeTakeFirst();
    if (!user?.email_verified_at || user.disabled_at) return false;
    // A newer request supersedes the older ones: one live link per account and org.
    await tx
      .updateTable('sso_link_confirmations')
      .set({ used_at: now })
      .where('user_id', '=', user.id)
      .where('org_id', '=', config.orgId)
      .where('used_at', 'is', null)
      .execute();
    const token = randomToken();
    await tx
      .insertInto('sso_link_confirmations')
      .values({
        token_hash: sha256Hex(token),
        org_id: key.orgId,
        issuer: key.issuer,
        subject: key.subject,
        user_id: user.id,
        expires_at: new Date(now.getTime() + LINK_CONFIRMATION_TTL_MS),
        used_at: null,
      })
      .execute();
    const org = await tx
      .selectFrom('orgs')
      .select('name')
      .where('id', '=', config.orgId)
      .executeTakeFirstOrThrow();
    await queueMail(
      tx,
      await this.deps.mailKeys(),
      renderMail(this.deps.appUrl, { type: 'sso-link', to: user.email, orgName: org.name, token }),
      now,
    );
    return true;
  }

  /**
   * The account owner's click in the mail: links the identity their org's IdP asserted to their
   * account, once. The link is refused when the org changed its provider since, or no longer holds
   * the account's domain, or another account holds the identity.
   */
  async confirmLink(token: string, meta: ClientMeta): Promise<Result<{ orgSlug: string }>> {
    const invalid = fail('VALIDATION_FAILED', 'The link is invalid, expired or already used.', {
      issues: [{ path: 'token', message: 'invalid or expired' }],
    });
    return this.deps.store.db.transaction().execute(async (tx) => {
      const pending = await tx
        .updateTable('sso_link_confirmations')
        .set({ used_at: meta.now })
        .where('token_hash', '=', sha256Hex(token))
        .where('used_at', 'is', null)
        .where('expires_at', '>', meta.now)
        .returning(['org_id', 'issuer', 'subject', 'user_id'])
        .executeTakeFirst();
      if (!pending) return invalid;
      const config = await this.deps.store.byOrgId(pending.org_id, tx);
      const user = await tx
        .selectFrom('users')
        .select(['email', 'disabled_at'])
        .where('id', '=', pending.user_id)
        .executeTakeFirst();
      const domain = user ? emailDomain(user.email) : null;
      const holder = domain ? await this.deps.domains.holder(domain, tx) : null;
      if (
        !config ||
        config.issuerUrl !== pending.issuer ||
        !user ||
        user.disabled_at ||
        holder?.orgId !== pending.org_id
      ) {
        return invalid;
      }
      const linked = await this.linkIdentity(tx, config, pending.subject, pending.user_id, meta);
      if (!linked.ok) return linked.failure;
      return { ok: true as const, orgSlug: config.orgSlug };
    });
  }

  /**
   * Links the provider identity to the user who started the link. One identity per user and org;
   * an identity already linked to someone else stays theirs (409): its owner unlinks by signing in.
   */
  private async linkIdentity(
    tx: Tx,
    config: SsoConfig,
    subject: string,
    userId: string,
    meta: ClientMeta,
  ): Promise<{ ok: true } | Refusal> {
    const { store } = this.deps;
    const key = { orgId: config.orgId, issuer: config.issuerUrl, subject };
    const holder = await store.identity(tx, key.orgId, key.issuer, key.subject);
    if (holder && holder !== userId) {
      return refusal(
        'identity_linked_to_another_account',
        fail('CONFLICT', 'This identity is already linked to another account.'),
      );
    }
    await store.unlinkUser(tx, config.orgId, userId);
    // Someone who linked it between the check and now keeps it; throwing rolls the unlink back.
    if ((await store.link(tx, key, userId, meta.now)) !== userId)
      throw new Error('identity linked concurrently');
    await appendAudit(tx, {
      orgId: config.orgId,
      action: 'sso.login',
      actor: { type: 'user', id: userId },
      target: { type: 'user', id: userId },
      metadata: { provider: providerLabel(config.issuerUrl), outcome: 'linked' },
      ip: meta.ip,
      now: meta.now,
    });
    return { ok: true };
  }

  /** A refused SSO attempt in a known org: `sso.login` with the outcome, never a token. */
  async refused(orgId: string, reason: string, meta: { ip: string; now: Date }, detail?: string) {
    await this.deps.store.db.transaction().execute((tx) =>
      appendAudit(tx, {
        orgId,
        action: 'sso.login',
        actor: { type: 'user', id: null },
        metadata: { outcome: 'refused', reason, ...(detail ? { detail } : {}) },
        ip: meta.ip,
        now: meta.now,
      }),
    );
  }
}
