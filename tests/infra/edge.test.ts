import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { allRoutes } from '../../functions/meta/all-routes.js';
import { renderEdgeRoutesTf, throttledRoutes } from '../../scripts/infra-routes.js';
import { clientIp } from '../../shared/http/client-ip.js';
import { normalizedPath } from '../../shared/http/path.js';
import { loadRewrites, unitFor } from '../../shared/runtime/rewrites.js';
import { throughLoadBalancer } from '../helpers/load-balancer.js';
import { type CodeInventory, codeInventory } from './code-inventory.js';
import { checkEdge, edgeRouteRules, loadBalancerUnit } from './edge.js';
import { checkProviderSchema, providerVersion } from './provider-schema.js';
import { type Block, loadTerraform, nested, ref, type TerraformModel } from './terraform.js';

let tf: TerraformModel;
let code: CodeInventory;

beforeAll(async () => {
  tf = await loadTerraform();
  code = codeInventory();
});

/** A concrete request path for a route: every `:param` filled in. */
const sample = (path: string) => path.replace(/:[A-Za-z]+/g, 'x1');

describe('the load balancer is the only way to a function', () => {
  it('infra/edge-routes.tf is what `npm run infra:routes` generates from the code today', () => {
    expect(
      readFileSync(new URL('../../infra/edge-routes.tf', import.meta.url), 'utf8'),
      'stale: run `npm run infra:routes` and commit infra/edge-routes.tf',
    ).toBe(renderEdgeRoutesTf());
  });

  it('every HTTP unit has a serverless NEG, a backend service with Cloud Armor, a URL-map path and load-balancer-only ingress; every consumer is internal only', () => {
    expect(checkEdge(code, tf)).toEqual([]);
  });

  it('a unit that loses its URL-map path, or a function opened to all traffic, fails the check', () => {
    const broken: TerraformModel = structuredClone(tf);
    broken.locals.edge_routes = (broken.locals.edge_routes as Array<{ unit: string }>).filter(
      (r) => r.unit !== 'keys',
    );
    const service = nested(broken.resources.google_cloudfunctions2_function?.unit, 'service_config');
    if (!service) throw new Error('no service_config');
    service.ingress_settings = 'ALLOW_ALL';
    const problems = checkEdge(code, broken);
    expect(problems).toContain('HTTP unit "keys" has no URL-map path');
    expect(problems).toContain('HTTP unit "login" has ingress ALLOW_ALL, not ALLOW_INTERNAL_AND_GCLB');
    expect(problems).toContain('unit "notify" has ingress ALLOW_ALL, not ALLOW_INTERNAL_ONLY');
  });

  it('a backend service without Cloud Armor, NEGs for only some units, or a public consumer fails the check', () => {
    const broken: TerraformModel = structuredClone(tf);
    const backend = broken.resources.google_compute_backend_service?.unit as Block;
    delete backend.security_policy;
    const neg = broken.resources.google_compute_region_network_endpoint_group?.unit as Block;
    neg.for_each = ref('{ for u, s in local.units : u => s if u != "meta" }');
    const invoker = broken.resources.google_cloud_run_service_iam_member?.public_invoker as Block;
    invoker.for_each = ref('local.units');
    expect(checkEdge(code, broken)).toEqual([
      'every HTTP unit needs a serverless NEG (for_each over local.http_units)',
      'Cloud Armor must guard every backend service',
      'google_cloud_run_service_iam_member.public_invoker lets anyone invoke a non-HTTP unit',
    ]);
  });

  it('the URL map sends every route of the code to the same unit as the local gateway does', () => {
    const rules = edgeRouteRules(tf);
    const rewrites = loadRewrites();
    const paths = allRoutes().map((route) => sample(route.path));
    expect(paths.length).toBeGreaterThan(40);
    for (const path of paths) {
      const gateway = unitFor(rewrites, normalizedPath(path) ?? path);
      expect(gateway, path).toBeDefined();
      expect(loadBalancerUnit(rules, path), path).toBe(gateway);
    }
    // Order matters in both: an org's SSO settings belong to login, not to the orgs catch-all.
    expect(loadBalancerUnit(rules, '/api/orgs/x1/sso')).toBe('login');
    expect(loadBalancerUnit(rules, '/api/orgs/x1/members')).toBe('orgs');
    expect(loadBalancerUnit(rules, '/index.html')).toBeUndefined();
  });
});

describe('TRUSTED_PROXY_HOPS', () => {
  it("the functions' default picks the client out of the header this load balancer produces, whatever the client prefixed", () => {
    const hops = tf.variables.trusted_proxy_hops?.default as number;
    expect(hops).toBe(2);
    expect(
      String(tf.locals.common_env && (tf.locals.common_env as Record<string, unknown>).TRUSTED_PROXY_HOPS),
    ).toContain('var.trusted_proxy_hops');
    const req = (headers: Record<string, string>) =>
      ({ socket: { remoteAddress: '35.191.0.1' }, headers }) as unknown as IncomingMessage;
    expect(clientIp(req(throughLoadBalancer('203.0.113.10', '6.6.6.6, 7.7.7.7')), hops)).toBe('203.0.113.10');
  });
});

describe('Cloud Armor', () => {
  const armor = () => tf.resources.google_compute_security_policy?.edge as Block;
  const rules = () => (armor().rule as Block[]) ?? [];
  const pathRegex = () => new RegExp(tf.locals.throttled_path_regex as string);
  const methods = () => tf.locals.throttled_methods as string[];

  it('bans an address after 10 requests in 15 minutes to the throttled routes, answering 429, keyed on the address the load balancer saw', () => {
    const ban = rules().find((rule) => rule.action === 'rate_based_ban');
    expect(ban).toBeDefined();
    expect(nested(nested(ban, 'match'), 'expr')?.expression).toBe(ref('local.throttled_expression'));
    expect(tf.locals.throttled_expression).toContain('local.throttled_methods');
    expect(tf.locals.throttled_expression).toContain(
      `request.path.matches('${ref('local.throttled_path_regex')}')`,
    );
    const options = nested(ban, 'rate_limit_options');
    expect(options).toMatchObject({
      conform_action: 'allow',
      exceed_action: 'deny(429)',
      enforce_on_key: 'IP',
    });
    expect(nested(options, 'rate_limit_threshold')).toEqual({
      count: ref('var.armor_throttle_count'),
      interval_sec: ref('var.armor_throttle_interval_sec'),
    });
    expect(tf.variables.armor_throttle_count?.default).toBe(10);
    expect(tf.variables.armor_throttle_interval_sec?.default).toBe(900);
  });

  it('the rate rule covers every route the code flags, with or without a trailing slash, and no other route', () => {
    const flagged = throttledRoutes();
    expect(flagged.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining([
        'POST /api/login',
        'POST /api/login/mfa',
        'POST /api/login/oauth',
        'POST /api/accounts/signup',
        'POST /api/accounts/password-reset/request',
      ]),
    );
    for (const route of flagged) {
      expect(methods()).toContain(route.method);
      expect(pathRegex().test(sample(route.path)), route.path).toBe(true);
      expect(pathRegex().test(`${sample(route.path)}/`), route.path).toBe(true);
    }
    const flaggedPaths = new Set(flagged.map((r) => r.path));
    for (const route of allRoutes().filter((r) => !flaggedPaths.has(r.path))) {
      expect(pathRegex().test(sample(route.path)), route.path).toBe(false);
    }
  });

  it('every anonymous route that changes something is throttled at the edge, or excused here with a reason', () => {
    const excused: Record<string, string> = {
      'POST /api/accounts/login-confirmation':
        'redeems a 256-bit single-use token from a sign-in confirmation mail; throttled per address by the application',
      'POST /api/accounts/verify-email':
        'redeems a 256-bit single-use token; checks no credential, sends no mail',
      'POST /api/keys/verify':
        'API-key verification is machine traffic at volume; the key itself is 256 bits',
    };
    const unthrottled = allRoutes()
      .filter((route) => route.auth.kind === 'none' && route.method !== 'GET' && route.edgeThrottled !== true)
      .map((route) => `${route.method} ${route.path}`);
    expect(
      unthrottled.sort(),
      'flag a new anonymous route `edgeThrottled: true` (then npm run infra:routes), or excuse it here',
    ).toEqual(Object.keys(excused).sort());
  });

  it('a path with a dot segment never reaches a function, so `/api/x/../login` cannot dodge the path rule', () => {
    const dots = rules().find((rule) => rule.priority === 90);
    expect(dots?.action).toBe('deny(400)');
    const expression = String(nested(nested(dots, 'match'), 'expr')?.expression);
    const regex = new RegExp(/matches\('\(\?i\)(.*)'\)$/.exec(expression)?.[1] ?? 'never', 'i');
    for (const path of [
      '/api/x/../login',
      '/api/./login',
      '/api/%2e%2e/login',
      '/api/x/%2E./login',
      '/api/login/..',
    ]) {
      expect(regex.test(path), path).toBe(true);
    }
    for (const path of ['/api/login', '/api/openapi.json', '/assets/app.1a2b.js', '/api/login/.well-known']) {
      expect(regex.test(path), path).toBe(false);
    }
    expect(Number(dots?.priority)).toBeLessThan(100);
  });

  it('the OWASP rule sets run in preview unless enforced, and every decision is logged', () => {
    expect(Object.values(tf.locals.waf_rules as Record<string, string>).sort()).toEqual([
      'lfi-v33-stable',
      'rce-v33-stable',
      'scannerdetection-v33-stable',
      'sqli-v33-stable',
      'xss-v33-stable',
    ]);
    const waf = (armor().dynamic as Record<string, Block[]>).rule?.[0];
    const content = nested(waf, 'content');
    expect(content?.preview).toBe(ref('!var.armor_waf_enforce'));
    expect(String(nested(nested(content, 'match'), 'expr')?.expression)).toContain(
      'evaluatePreconfiguredWaf',
    );
    expect(tf.variables.armor_waf_enforce?.default).toBe(false);
    expect(nested(armor(), 'advanced_options_config')?.log_level).toBe('VERBOSE');
  });
});

describe("infra/*.tf against the Google provider's schema", () => {
  it('the bindings are of a provider version infra/versions.tf accepts', () => {
    const constraint = /google = \{[^}]*version\s*=\s*"~> (\d+)\.\d+"/.exec(
      readFileSync(new URL('../../infra/versions.tf', import.meta.url), 'utf8'),
    );
    expect(constraint?.[1]).toBeDefined();
    expect(providerVersion.split('.')[0]).toBe(constraint?.[1]);
  });

  it('every google_* resource and data source uses only arguments and blocks the provider has, with the required ones', () => {
    expect(checkProviderSchema(tf)).toEqual([]);
  });

  it('a misspelt argument, a missing required one, a block written as an argument and a repeated single block are caught', () => {
    const broken: TerraformModel = structuredClone(tf);
    const backend = broken.resources.google_compute_backend_service?.unit as Block;
    backend.securty_policy = backend.security_policy;
    delete backend.security_policy;
    const neg = broken.resources.google_compute_region_network_endpoint_group?.unit as Block;
    delete neg.name;
    const sql = broken.resources.google_sql_database_instance?.main as Block;
    sql.settings = (sql.settings as Block[])[0];
    const url = broken.resources.google_compute_url_map?.edge as Block;
    const matcher = nested(url, 'path_matcher') as Block;
    matcher.default_url_redirect = [
      { https_redirect: true, strip_query: false },
      { https_redirect: true, strip_query: false },
    ];
    expect(checkProviderSchema(broken)).toEqual([
      'google_compute_backend_service.unit: unknown argument "securty_policy"',
      'google_compute_region_network_endpoint_group.unit: required argument "name" is missing',
      'google_compute_url_map.edge.path_matcher: block "default_url_redirect" may appear once, found 2',
      'google_sql_database_instance.main: "settings" is a block, written as an argument (use settings { … })',
    ]);
  });

  it('nested blocks are checked too, inside dynamic blocks and in the wrong parent', () => {
    const broken: TerraformModel = structuredClone(tf);
    const armor = broken.resources.google_compute_security_policy?.edge as Block;
    const waf = nested((armor.dynamic as Record<string, Block[]>).rule?.[0], 'content') as Block;
    waf.preveiw = waf.preview;
    const ban = (armor.rule as Block[]).find((rule) => rule.action === 'rate_based_ban') as Block;
    // rate_limit_threshold belongs inside rate_limit_options, not on the rule.
    ban.rate_limit_threshold = nested(ban, 'rate_limit_options')?.rate_limit_threshold;
    expect(checkProviderSchema(broken)).toEqual([
      'google_compute_security_policy.edge.rule: unknown argument "preveiw"',
      'google_compute_security_policy.edge.rule: unknown argument "rate_limit_threshold"',
    ]);
  });
});
