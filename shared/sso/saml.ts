import { randomBytes } from 'node:crypto';
import { type Profile, SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import { DOMParser } from '@xmldom/xmldom';
import { z } from 'zod';
import type { ClientMeta, LoginSuccess } from '../accounts/login.js';
import { fail, type Result } from '../errors/codes.js';
import type { Logger } from '../log/logger.js';
import { SSO_STATE_TTL_SECONDS, safeReturnTo } from './model.js';
import { installParsedIdpKeys } from './saml-keys.js';
import { certPem, parseIdpMetadata } from './saml-metadata.js';
import { signSamlState, verifySamlState } from './saml-state.js';
import { samlSpUrls } from './saml-urls.js';
import { normalizedDomains, type SsoService, type SsoSettingsView, ssoOnlyLockOut } from './service.js';
import type { SsoConfig, SsoStore } from './store.js';

/** NotBefore / NotOnOrAfter are honoured with three minutes of clock skew, no more. */
export const SAML_CLOCK_SKEW_MS = 3 * 60_000;

/** SHA-1 anywhere in the signature (signature or digest method) refuses the answer: RSA-SHA256 or stronger only. */
const WEAK_ALGORITHM =
  /Algorithm\s*=\s*["']http:\/\/www\.w3\.org\/2000\/09\/xmldsig#(?:rsa-sha1|dsa-sha1|hmac-sha1|sha1)["']/;
const SAMLP = 'urn:oasis:names:tc:SAML:2.0:protocol';
const SAML_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
const EMAIL_ATTRIBUTES = [
  'email',
  'mail',
  'urn:oid:0.9.2342.19200300.100.1.3',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
];
const emailSchema = z.email().max(320);

// The IdP certificates are parsed once per certificate, not once per answer (saml-keys.ts).
installParsedIdpKeys();

export interface SamlSettingsInput {
  idpMetadataXml: string;
  allowedDomains: string[];
  defaultRole: SsoConfig['defaultRole'];
  passwordLoginAllowed: boolean;
}

type Refused = { ok: false; reason: string; detail?: string };
type Identity = { subject: string; email: string; name: unknown };

/**
 * A SAML 2.0 service provider per org, on `@node-saml/node-saml`: HTTP-Redirect AuthnRequests,
 * POST-binding answers. node-saml checks the signature over the assertion it returns (never over a
 * sibling element: one assertion only), the IdP's certificates from its uploaded metadata, the
 * issuer, the audience, the time window and InResponseTo; we add RSA-SHA256-or-stronger,
 * Destination and Recipient = our ACS, the request bound to this browser's state cookie and used
 * once, and each assertion id accepted once until it expires.
 */
export class SamlService {
  constructor(
    private readonly deps: {
      store: SsoStore;
      sso: SsoService;
      stateKey: () => Promise<Buffer>;
      appUrl: string;
      appOrigins: readonly string[];
      allowLoopbackHttp: boolean;
      logger: Logger;
    },
  ) {}

  async metadata(orgSlug: string): Promise<string | null> {
    const config = await this.deps.store.bySlug(orgSlug);
    if (config?.protocol !== 'saml') return null;
    return serviceProvider(config, this.deps.appUrl, null).generateServiceProviderMetadata(null);
  }

  /** Saves SAML settings from the IdP's metadata (owner, step-up at the route). */
  async configure(
    orgId: string,
    actor: { userId: string; ip: string | null; boundOrgId: string | null },
    input: SamlSettingsInput,
    now: Date,
  ): Promise<Result<{ settings: SsoSettingsView }>> {
    const lockOut = ssoOnlyLockOut(orgId, input.passwordLoginAllowed, actor.boundOrgId);
    if (lockOut) return lockOut;
    const parsed = parseIdpMetadata(input.idpMetadataXml, this.deps.allowLoopbackHttp);
    if (!parsed.ok) {
      return fail('VALIDATION_FAILED', 'The IdP metadata is not usable.', {
        issues: [{ path: 'idpMetadataXml', message: parsed.reason }],
      });
    }
    const { metadata } = parsed;
    const allowedDomains = normalizedDomains(input.allowedDomains);
    const settings = await this.deps.sso.save(
      {
        org_id: orgId,
        protocol: 'saml',
        issuer_url: metadata.entityId,
        client_id: '',
        client_secret_sealed: '',
        saml_sso_url: metadata.ssoUrl,
        saml_certs: metadata.certs,
        allowed_domains: allowedDomains,
        default_role: input.defaultRole,
        password_login_allowed: input.passwordLoginAllowed,
        updated_by: actor.userId,
      },
      actor,
      {
        protocol: 'saml',
        idpEntityId: metadata.entityId,
        idpSsoUrl: metadata.ssoUrl,
        certificates: metadata.certs.length,
        allowedDomains,
        defaultRole: input.defaultRole,
        passwordLoginAllowed: input.passwordLoginAllowed,
      },
      now,
    );
    return { ok: true, settings };
  }

  /** The AuthnRequest redirect and the state cookie; null when the org's SSO is not SAML. */
  async start(
    orgSlug: string,
    returnTo: string | undefined,
    meta: { ip: string; now: Date },
  ): Promise<Result<{ location: string; stateCookie: string }> | null> {
    const config = await this.deps.store.bySlug(orgSlug);
    if (config?.protocol !== 'saml') return null;
    const target = safeReturnTo(returnTo, this.deps.appOrigins, this.deps.appUrl);
    if (!target.ok) {
      await this.deps.sso.refused(config.orgId, 'return_to_not_allowed', meta);
      return fail('VALIDATION_FAILED', 'returnTo must be a URL on one of the configured app origins.', {
        issues: [{ path: 'returnTo', message: 'not an allowed app origin' }],
      });
    }
    // xs:ID must not start with a digit.
    const requestId = `_${randomBytes(20).toString('hex')}`;
    await this.deps.store.db
      .insertInto('saml_requests')
      .values({
        id: requestId,
        org_id: config.orgId,
        expires_at: new Date(meta.now.getTime() + SSO_STATE_TTL_SECONDS * 1000),
        used_at: null,
      })
      .execute();
    const location = await serviceProvider(config, this.deps.appUrl, requestId).getAuthorizeUrlAsync(
      '',
      undefined,
      {},
    );
    const stateCookie = signSamlState(
      await this.deps.stateKey(),
      { orgId: config.orgId, requestId, returnTo: target.url },
      meta.now,
    );
    return { ok: true, location, stateCookie };
  }

  /** The IdP's POST to our ACS: every check, then the same sign-in as OIDC (`signInVerified`). */
  async acs(
    stateCookie: string | undefined,
    samlResponse: string,
    meta: ClientMeta,
  ): Promise<Result<{ login: LoginSuccess; returnTo: string }>> {
    const saved = verifySamlState(await this.deps.stateKey(), stateCookie, meta.now);
    if (!saved) {
      // Unsolicited (IdP-initiated) answers have no state here: refused like an expired sign-in.
      return fail('UNAUTHENTICATED', 'This sign-in expired or was not started in this browser; start again.');
    }
    const config = await this.deps.store.byOrgId(saved.orgId);
    if (config?.protocol !== 'saml') return fail('NOT_FOUND', 'This organization no longer uses SAML.');
    const checked = await this.check(config, saved.requestId, samlResponse, meta.now);
    if (!checked.ok) {
      this.deps.logger.info('saml response refused', { orgId: config.orgId, reason: checked.reason });
      await this.deps.sso.refused(config.orgId, checked.reason, meta, checked.detail);
      return fail(
        'INVALID_CREDENTIALS',
        "The identity provider's answer did not pass our checks; start again.",
      );
    }
    const login = await this.deps.sso.signInVerified(config, checked.identity, meta);
    return login.ok ? { ok: true, login, returnTo: saved.returnTo } : login;
  }

  /** Validation, then the single use of the request and of the assertion id, in one transaction. */
  async check(
    config: SsoConfig,
    requestId: string,
    samlResponse: string,
    now: Date,
  ): Promise<{ ok: true; identity: Identity } | Refused> {
    const valid = await validateSamlResponse(config, this.deps.appUrl, requestId, samlResponse);
    if (!valid.ok) return valid;
    const { assertionId, rememberUntil } = valid;
    const fresh = await this.deps.store.db.transaction().execute(async (tx) => {
      const request = await tx
        .updateTable('saml_requests')
        .set({ used_at: now })
        .where('id', '=', requestId)
        .where('org_id', '=', config.orgId)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .returning('id')
        .executeTakeFirst();
      if (!request) return 'request_used' as const;
      const remembered = await tx
        .insertInto('saml_assertions')
        .values({ org_id: config.orgId, assertion_id: assertionId, expires_at: rememberUntil })
        .onConflict((oc) => oc.columns(['org_id', 'assertion_id']).doNothing())
        .returning('assertion_id')
        .executeTakeFirst();
      // Throwing would undo the request's use too; a replayed assertion spends the request anyway.
      return remembered ? ('fresh' as const) : ('assertion_replayed' as const);
    });
    if (fresh !== 'fresh') return { ok: false, reason: fresh };
    return { ok: true, identity: valid.identity };
  }
}

/** node-saml configured for one org's IdP; `requestId` is the only request an answer may name. */
export function serviceProvider(config: SsoConfig, appUrl: string, requestId: string | null): SAML {
  if (!config.saml) throw new Error(`org ${config.orgId} has no SAML settings`);
  const urls = samlSpUrls(appUrl, config.orgSlug);
  return new SAML({
    issuer: urls.entityId,
    callbackUrl: urls.acsUrl,
    entryPoint: config.saml.ssoUrl,
    idpCert: config.saml.certs.map(certPem),
    idpIssuer: config.issuerUrl,
    audience: urls.entityId,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    acceptedClockSkewMs: SAML_CLOCK_SKEW_MS,
    identifierFormat: null,
    disableRequestedAuthnContext: true,
    validateInResponseTo: ValidateInResponseTo.always,
    requestIdExpirationPeriodMs: SSO_STATE_TTL_SECONDS * 1000,
    // The only request this answer may name is the one in this browser's state cookie. Its
    // lifetime and single use are the saml_requests row's (consumed in `check`), so the "issued
    // at" node-saml wants back is simply now.
    cacheProvider: {
      saveAsync: async (_key, value) => ({ value, createdAt: Date.now() }),
      getAsync: async (key) => (requestId !== null && key === requestId ? new Date().toISOString() : null),
      removeAsync: async (key) => key,
    },
    generateUniqueId: () => requestId ?? `_${randomBytes(20).toString('hex')}`,
  });
}

/**
 * Validation proper, without I/O (what the benchmark measures): signature and conditions through
 * node-saml, then our own checks on the signed assertion it returns.
 */
export async function validateSamlResponse(
  config: SsoConfig,
  appUrl: string,
  requestId: string,
  samlResponse: string,
): Promise<{ ok: true; identity: Identity; assertionId: string; rememberUntil: Date } | Refused> {
  const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
  if (WEAK_ALGORITHM.test(xml)) return { ok: false, reason: 'weak_algorithm' };
  const acsUrl = samlSpUrls(appUrl, config.orgSlug).acsUrl;
  const response = parseXml(xml)?.documentElement;
  if (!response || response.namespaceURI !== SAMLP || response.localName !== 'Response') {
    return { ok: false, reason: 'malformed_response' };
  }
  const destination = response.getAttribute('Destination');
  if (destination && destination !== acsUrl) return { ok: false, reason: 'wrong_destination' };
  if (response.getAttribute('InResponseTo') !== requestId) return { ok: false, reason: 'unsolicited' };

  let profile: Profile | null;
  try {
    profile = (
      await serviceProvider(config, appUrl, requestId).validatePostResponseAsync({
        SAMLResponse: samlResponse,
      })
    ).profile;
  } catch (error) {
    return {
      ok: false,
      reason: 'assertion_rejected',
      detail: error instanceof Error ? error.message : 'invalid',
    };
  }
  const assertionXml = profile?.getAssertionXml?.();
  const assertion = assertionXml ? parseXml(assertionXml)?.documentElement : null;
  if (!profile || !assertion) return { ok: false, reason: 'assertion_rejected' };
  // Recipient and the expiry come from the signed assertion node-saml verified, nothing else.
  const confirmations = Array.from(assertion.getElementsByTagNameNS(SAML_NS, 'SubjectConfirmationData'));
  if (confirmations.length === 0 || confirmations.some((c) => c.getAttribute('Recipient') !== acsUrl)) {
    return { ok: false, reason: 'wrong_recipient' };
  }
  const assertionId = assertion.getAttribute('ID') ?? '';
  const notOnOrAfter = [
    ...confirmations.map((c) => c.getAttribute('NotOnOrAfter')),
    ...Array.from(assertion.getElementsByTagNameNS(SAML_NS, 'Conditions')).map((c) =>
      c.getAttribute('NotOnOrAfter'),
    ),
  ]
    .filter((v): v is string => !!v)
    .map((v) => Date.parse(v))
    .filter((v) => Number.isFinite(v));
  if (!assertionId || notOnOrAfter.length === 0) return { ok: false, reason: 'assertion_rejected' };
  const rememberUntil = new Date(Math.max(...notOnOrAfter) + SAML_CLOCK_SKEW_MS);

  const email = emailOf(profile);
  if (!email) return { ok: false, reason: 'email_missing' };

  const name = profile.displayName ?? profile['http://schemas.microsoft.com/identity/claims/displayname'];
  return { ok: true, identity: { subject: profile.nameID, email, name }, assertionId, rememberUntil };
}

function parseXml(xml: string): Document | null {
  if (/<!DOCTYPE/i.test(xml)) return null;
  try {
    return new DOMParser({ onError: () => undefined }).parseFromString(
      xml,
      'text/xml',
    ) as unknown as Document;
  } catch {
    return null;
  }
}

/** The email from an email attribute, else from an email-shaped NameID. */
function emailOf(profile: Profile): string | null {
  for (const name of EMAIL_ATTRIBUTES) {
    const value = profile[name];
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string' && emailSchema.safeParse(first).success) return first;
  }
  return emailSchema.safeParse(profile.nameID).success ? profile.nameID : null;
}
