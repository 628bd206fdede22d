import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { DOMParser } from '@xmldom/xmldom';
import { sql } from 'kysely';
import { loadConfig } from '../shared/config/config.js';
import { createLogger } from '../shared/log/logger.js';
import { core } from '../shared/runtime/core.js';
import { type LocalRuntime, startLocalRuntime } from '../shared/runtime/local.js';
import { SamlService, validateSamlResponse } from '../shared/sso/saml.js';
import { forgetParsedKeys } from '../shared/sso/saml-keys.js';
import { certPem } from '../shared/sso/saml-metadata.js';
import { samlSpUrls } from '../shared/sso/saml-urls.js';
import { type SsoConfig, SsoStore } from '../shared/sso/store.js';
import { insertOrg, openTestDatabase } from '../tests/helpers/db.js';
import { makeKeyPair, signedAnswer } from '../tests/helpers/saml-idp.js';
import { machineLine, percentile, type Row, report, sample } from './lib/report.js';

/**
 * Enterprise identity figures. SAML: validating one signed response (node-saml signature and
 * conditions plus our checks on the signed assertion, no I/O; target p50 ≤ 5 ms), and the whole
 * check with the single-use request and assertion-id rows on each engine. SCIM: one list call as
 * GET /api/scim/v2/Users makes it (the count and one page of 100 in user-id order, at a random
 * startIndex) over an org of 10,000 members (target ≤ 20 ms on PostgreSQL).
 */
// node-saml's own signature check, measured alone (it is not part of the package's typed API).
const { getVerifiedXml } = createRequire(import.meta.url)('@node-saml/node-saml/lib/xml.js') as {
  getVerifiedXml: (xml: string, node: unknown, pems: string[]) => string | null;
};
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 300);
const APP_URL = 'https://sessionforge.example';
const IDP = 'https://idp.corp.test/saml';

const keys = makeKeyPair('bench-idp');

function config(orgId: string): SsoConfig {
  return {
    orgId,
    orgSlug: 'bench',
    issuerUrl: IDP,
    clientId: '',
    clientSecretSealed: '',
    allowedDomains: ['corp.test'],
    defaultRole: 'member',
    passwordLoginAllowed: true,
    protocol: 'saml',
    saml: { ssoUrl: 'https://idp.corp.test/sso', certs: [keys.certBase64] },
    updatedAt: new Date(),
  };
}

function signedResponse(requestId: string): string {
  return signedAnswer({
    keys,
    issuer: IDP,
    email: 'ann@corp.test',
    sp: samlSpUrls(APP_URL, 'bench'),
    requestId,
  });
}

async function boot(engine: 'pglite' | 'postgres'): Promise<LocalRuntime> {
  const database = await openTestDatabase(engine);
  return startLocalRuntime(loadConfig({ PORT: '0', DATA_DIR: `/tmp/sf-bench-enterprise-${engine}` }), {
    database,
    env: {},
    migrate: false,
    scheduler: false,
    logger: createLogger('silent'),
  });
}

async function fullCheck(engine: 'pglite' | 'postgres'): Promise<Row> {
  const runtime = await boot(engine);
  const db = runtime.platform.db;
  const orgId = await insertOrg(db, { slug: 'bench', name: 'Bench', now: new Date() });
  const store = new SsoStore(db);
  const saml = new SamlService({
    store,
    sso: undefined as never,
    stateKey: async () => Buffer.alloc(32),
    appUrl: APP_URL,
    appOrigins: [APP_URL],
    allowLoopbackHttp: false,
    logger: createLogger('silent'),
  });
  const cfg = config(orgId);
  // Pre-signed answers to pre-issued requests, so the loop measures the check only.
  const prepared: { id: string; response: string }[] = [];
  for (let i = 0; i < ROUNDS + 20; i++) {
    const id = `_req${i}x${Date.now()}`;
    await db
      .insertInto('saml_requests')
      .values({ id, org_id: orgId, expires_at: new Date(Date.now() + 3_600_000), used_at: null })
      .execute();
    prepared.push({ id, response: signedResponse(id) });
  }
  let next = 0;
  const times = await sample(async () => {
    const item = prepared[next++];
    if (!item) throw new Error('ran out of prepared answers');
    const checked = await saml.check(cfg, item.id, item.response, new Date());
    if (!checked.ok) throw new Error(checked.reason);
  }, ROUNDS);
  await runtime.stop();
  return {
    measure: `SAML check incl. single-use rows, ${engine}, p50 / p95`,
    value: `${percentile(times, 50).toFixed(2)} / ${percentile(times, 95).toFixed(2)} ms`,
    target: '',
  };
}

const SCIM_MEMBERS = 10_000;
const SCIM_PAGE = 100;

async function scimList(engine: 'pglite' | 'postgres'): Promise<Row[]> {
  const runtime = await boot(engine);
  const db = runtime.platform.db;
  const now = new Date();
  const orgId = await insertOrg(db, { slug: 'scim-bench', name: 'SCIM bench', now });
  // Other orgs' people in the same tables, so the query has to find this org's among them.
  const otherOrgId = await insertOrg(db, { slug: 'scim-bench-other', name: 'Other', now });
  for (let start = 0; start < SCIM_MEMBERS + 2_000; start += 1_000) {
    const users = await db
      .insertInto('users')
      .values(
        Array.from({ length: 1_000 }, (_, i) => {
          const email = `scim${start + i}@bench.test`;
          return {
            email,
            email_normalized: email,
            name: `Person ${start + i}`,
            email_verified_at: now,
            disabled_at: null,
          };
        }),
      )
      .returning('id')
      .execute();
    const target = start < SCIM_MEMBERS ? orgId : otherOrgId;
    await db
      .insertInto('memberships')
      .values(
        users.map((u) => ({
          org_id: target,
          user_id: u.id,
          role: 'member' as const,
          expires_at: null,
          created_at: now,
        })),
      )
      .execute();
    // Every tenth person carries an externalId from the identity provider.
    await db
      .insertInto('scim_users')
      .values(
        users
          .filter((_, i) => i % 10 === 0)
          .map((u, i) => ({
            org_id: target,
            user_id: u.id,
            external_id: `ext-${start}-${i}`,
            invitation_id: null,
            suspended_at: null,
            suspended_role: null,
            suspended_expires_at: null,
            created_at: now,
            updated_at: now,
          })),
      )
      .execute();
  }
  await sql`analyze`.execute(db);
  const scim = (await core()).scimUsers;
  const pages = SCIM_MEMBERS / SCIM_PAGE;
  const first = await scim.list(orgId, null, { startIndex: 1, count: SCIM_PAGE });
  if (first.total !== SCIM_MEMBERS || first.people.length !== SCIM_PAGE) {
    throw new Error(`the SCIM list saw ${first.total} members and ${first.people.length} on a page`);
  }
  const list = await sample(
    async () => {
      const page = Math.floor(Math.random() * pages);
      await scim.list(orgId, null, { startIndex: page * SCIM_PAGE + 1, count: SCIM_PAGE });
    },
    Math.min(ROUNDS, 200),
  );
  const lookup = await sample(
    async () => {
      const n = Math.floor(Math.random() * SCIM_MEMBERS);
      const found = await scim.list(
        orgId,
        { attribute: 'userName', value: `scim${n}@bench.test` },
        { startIndex: 1, count: SCIM_PAGE },
      );
      if (found.total !== 1) throw new Error('the userName filter missed');
    },
    Math.min(ROUNDS, 200),
  );
  await runtime.stop();
  const name = engine === 'postgres' ? 'PostgreSQL' : 'PGlite';
  return [
    {
      measure: `SCIM list, ${SCIM_MEMBERS.toLocaleString('en')} members, page of ${SCIM_PAGE} (${name}), p50 / p95`,
      value: `${percentile(list, 50).toFixed(2)} / ${percentile(list, 95).toFixed(2)} ms`,
      target: engine === 'postgres' ? '≤ 20 ms' : '',
    },
    {
      measure: `SCIM userName eq lookup among ${SCIM_MEMBERS.toLocaleString('en')} (${name}), p50 / p95`,
      value: `${percentile(lookup, 50).toFixed(2)} / ${percentile(lookup, 95).toFixed(2)} ms`,
      target: '',
    },
  ];
}

const cfg = config('00000000-0000-4000-8000-000000000001');
const requestId = '_benchrequest0000000000000000';
const response = signedResponse(requestId);
const first = await validateSamlResponse(cfg, APP_URL, requestId, response);
if (!first.ok) throw new Error(`the bench response does not validate: ${first.reason} ${first.detail ?? ''}`);
// Before and after side by side, interleaved so both see the same load: "before" forgets the
// parsed IdP key ahead of every answer (the certificate parsed per answer, as before the cache).
const before: number[] = [];
const validation: number[] = [];
// CPU time too (this process, all its threads): far less sensitive to the other engineers' load
// than wall time, which counts the time this process waits for a core.
const cpuMs = new Map<number[], number>();
async function timed(into: number[]): Promise<void> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const r = await validateSamlResponse(cfg, APP_URL, requestId, response);
  into.push(performance.now() - start);
  const used = process.cpuUsage(cpu);
  cpuMs.set(into, (cpuMs.get(into) ?? 0) + (used.user + used.system) / 1000);
  if (!r.ok) throw new Error(r.reason);
}
const cpuPerCall = (times: number[]) => `${((cpuMs.get(times) ?? 0) / times.length).toFixed(2)} ms`;
for (let i = 0; i < 20; i++) await timed([]);
for (let i = 0; i < ROUNDS; i++) {
  forgetParsedKeys();
  await timed(before);
  await timed(validation);
}
before.sort((a, b) => a - b);
validation.sort((a, b) => a - b);
// What the library's XML signature check alone costs (xml-crypto under node-saml: re-parse,
// XPath lookups by ID, exclusive c14n, digest, RSA): the part no configuration cache can remove.
const xml = Buffer.from(response, 'base64').toString('utf8');
const assertionNode = new DOMParser()
  .parseFromString(xml, 'text/xml')
  .getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:assertion', 'Assertion')[0];
const pems = cfg.saml?.certs.map(certPem) ?? [];
const signatureOnly = await sample(() => {
  if (!getVerifiedXml(xml, assertionNode, pems)) throw new Error('signature check failed');
}, ROUNDS);

const rows: Row[] = [
  {
    measure: 'SAML response validation (signature, conditions, our checks), p50',
    value: `${percentile(validation, 50).toFixed(2)} ms`,
    target: '≤ 5 ms',
  },
  {
    measure: 'SAML response validation, p95',
    value: `${percentile(validation, 95).toFixed(2)} ms`,
    target: '',
  },
  {
    measure: 'same run, IdP certificate parsed per answer (before the key cache), p50 / p95',
    value: `${percentile(before, 50).toFixed(2)} / ${percentile(before, 95).toFixed(2)} ms`,
    target: '',
  },
  {
    measure: 'CPU time per validation, mean: parsed key reused / certificate parsed per answer',
    value: `${cpuPerCall(validation)} / ${cpuPerCall(before)}`,
    target: '',
  },
  {
    measure: "of which the library's XML signature check alone (xml-crypto via node-saml), p50",
    value: `${percentile(signatureOnly, 50).toFixed(2)} ms`,
    target: '',
  },
  await fullCheck('pglite'),
];
if (process.env.DATABASE_URL) rows.push(await fullCheck('postgres'));
rows.push(...(await scimList('pglite')));
if (process.env.DATABASE_URL) rows.push(...(await scimList('postgres')));
else {
  rows.push({
    measure: 'SCIM list, 10,000 members, page of 100 (PostgreSQL)',
    value: 'not measured: run with DATABASE_URL',
    target: '≤ 20 ms',
  });
}

const load = loadavg()
  .map((l) => l.toFixed(1))
  .join(' / ');
report(
  'enterprise',
  'Enterprise identity: SAML response validation and SCIM lists (issue 24)',
  [
    machineLine(),
    `Load average at the end ${load} on a 2-core machine shared with other engineers' test runs: figures are under load.`,
    `${ROUNDS} rounds each. The response is 2048-bit RSA-SHA256 signed over the assertion (exclusive c14n), as Okta and Entra ID send it; validation builds node-saml per call as the ACS does; the IdP's public key is parsed once per certificate (shared/sso/saml-keys.ts). Before/after are interleaved in this one run.`,
  ],
  rows,
);
