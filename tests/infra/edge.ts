import type { CodeInventory } from './code-inventory.js';
import { type Block, nested, ref, type TerraformModel } from './terraform.js';

/** One URL map route rule as infra/edge-routes.tf lists it. */
export interface EdgeRouteRule {
  priority: number;
  unit: string;
  path: string;
  exact: boolean;
}

export function edgeRouteRules(tf: TerraformModel): EdgeRouteRule[] {
  return ((tf.locals.edge_routes as EdgeRouteRule[] | undefined) ?? [])
    .slice()
    .sort((a, b) => a.priority - b.priority);
}

/**
 * The load balancer's choice for a path, as its URL map decides: route rules in priority order,
 * the first whose full path or path template matches (`*` one segment, `**` any number).
 */
export function loadBalancerUnit(rules: EdgeRouteRule[], path: string): string | undefined {
  return rules.find((rule) => (rule.exact ? rule.path === path : templateRegex(rule.path).test(path)))?.unit;
}

function templateRegex(template: string): RegExp {
  const source = template
    .split('/')
    .map((segment) => {
      if (segment === '**') return '\u0000';
      if (segment === '*') return '[^/]+';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/')
    .replace('/\u0000', '(?:/.*)?');
  return new RegExp(`^${source}$`);
}

function resource(tf: TerraformModel, type: string, name: string): Block | undefined {
  return tf.resources[type]?.[name];
}

const text = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value ?? ''));

/** What ingress each unit gets: a literal, or `each.value.http ? "<http>" : "<other>"`. */
export function ingressOf(tf: TerraformModel, http: boolean): string | undefined {
  const value = text(
    nested(resource(tf, 'google_cloudfunctions2_function', 'unit'), 'service_config')?.ingress_settings,
  );
  const conditional = /^\$\{each\.value\.http \? "(\w+)" : "(\w+)"\}$/.exec(value);
  if (conditional) return http ? conditional[1] : conditional[2];
  return /^\w+$/.test(value) ? value : undefined;
}

/**
 * Every HTTP unit of the code behind the load balancer: a serverless NEG and a backend service
 * (generated per HTTP unit), a URL-map path, Cloud Armor and request logs on the backend, and an
 * ingress that refuses anything but the load balancer; every other unit internal only.
 */
export function checkEdge(code: CodeInventory, tf: TerraformModel): string[] {
  const problems: string[] = [];
  /** The value (an expression, as hcl2json gives it) must mention `fragment`. */
  const mentions = (value: unknown, fragment: string, problem: string) => {
    if (!text(value).includes(fragment)) problems.push(problem);
  };
  const httpUnits = [...code.units].filter(([, unit]) => unit.http).map(([name]) => name);
  const otherUnits = [...code.units].filter(([, unit]) => !unit.http).map(([name]) => name);
  mentions(tf.locals.http_units, 'spec.http', 'local.http_units must select the units with http = true');

  const neg = resource(tf, 'google_compute_region_network_endpoint_group', 'unit');
  mentions(
    neg?.for_each,
    'local.http_units',
    'every HTTP unit needs a serverless NEG (for_each over local.http_units)',
  );
  if (neg?.network_endpoint_type !== 'SERVERLESS') problems.push('the NEGs must be serverless');
  mentions(
    nested(neg, 'cloud_run')?.service,
    'google_cloudfunctions2_function.unit[each.key]',
    "each NEG must point at its unit's function",
  );

  const backend = resource(tf, 'google_compute_backend_service', 'unit');
  mentions(
    backend?.for_each,
    'local.http_units',
    'every HTTP unit needs a backend service (for_each over local.http_units)',
  );
  mentions(
    nested(backend, 'backend')?.group,
    'google_compute_region_network_endpoint_group.unit[each.key]',
    "each backend service must serve its unit's NEG",
  );
  mentions(
    backend?.security_policy,
    'google_compute_security_policy.edge',
    'Cloud Armor must guard every backend service',
  );
  if (nested(backend, 'log_config')?.enable !== true) problems.push('backend services must log requests');
  if (backend?.load_balancing_scheme !== 'EXTERNAL_MANAGED')
    problems.push('backend services must belong to the global external Application Load Balancer');

  const rules = edgeRouteRules(tf);
  const routed = new Set(rules.map((rule) => rule.unit));
  for (const unit of httpUnits)
    if (!routed.has(unit)) problems.push(`HTTP unit "${unit}" has no URL-map path`);
  for (const unit of routed)
    if (!httpUnits.includes(unit))
      problems.push(`the URL map routes to "${unit}", which is not an HTTP unit`);
  if (new Set(rules.map((rule) => rule.priority)).size !== rules.length)
    problems.push('URL-map route priorities must be unique');
  const urlMap = resource(tf, 'google_compute_url_map', 'edge');
  const routeRules = (nested(urlMap, 'path_matcher')?.dynamic as Record<string, Block[]> | undefined)
    ?.route_rules?.[0];
  mentions(routeRules?.for_each, 'local.edge_routes', 'the URL map must be generated from local.edge_routes');
  mentions(
    nested(routeRules, 'content')?.service,
    'google_compute_backend_service.unit[route_rules.value.unit]',
    "each URL-map route must go to its unit's backend service",
  );

  for (const [units, expected] of [
    [httpUnits, 'ALLOW_INTERNAL_AND_GCLB'],
    [otherUnits, 'ALLOW_INTERNAL_ONLY'],
  ] as const) {
    const ingress = ingressOf(tf, expected === 'ALLOW_INTERNAL_AND_GCLB');
    for (const unit of units) {
      if (ingress !== expected)
        problems.push(
          `${units === httpUnits ? 'HTTP unit' : 'unit'} "${unit}" has ingress ${ingress ?? '(unknown)'}, not ${expected}`,
        );
    }
  }

  // allUsers may invoke HTTP units (the load balancer forwards callers unauthenticated; ingress
  // keeps everyone else out), and no other unit.
  for (const [name, member] of Object.entries(tf.resources.google_cloud_run_service_iam_member ?? {})) {
    if (text(member.member).includes('allUsers')) {
      mentions(
        member.for_each,
        'spec.http',
        `google_cloud_run_service_iam_member.${name} lets anyone invoke a non-HTTP unit`,
      );
    }
  }

  const https = resource(tf, 'google_compute_global_forwarding_rule', 'https');
  if (
    https?.port_range !== '443' ||
    !text(https?.target).includes('google_compute_target_https_proxy.edge')
  ) {
    problems.push('port 443 must reach the HTTPS proxy');
  }
  mentions(
    resource(tf, 'google_compute_target_https_proxy', 'edge')?.ssl_certificates,
    'google_compute_managed_ssl_certificate.edge',
    'HTTPS needs the managed certificate',
  );
  const domains = nested(resource(tf, 'google_compute_managed_ssl_certificate', 'edge'), 'managed')?.domains;
  if (text(domains) !== JSON.stringify([ref('var.domain')]))
    problems.push('the certificate must be for var.domain');
  const http = resource(tf, 'google_compute_global_forwarding_rule', 'http');
  const redirectMap = text(resource(tf, 'google_compute_target_http_proxy', 'http_redirect')?.url_map);
  const redirect = nested(resource(tf, 'google_compute_url_map', 'http_redirect'), 'default_url_redirect');
  if (
    http?.port_range !== '80' ||
    !redirectMap.includes('google_compute_url_map.http_redirect') ||
    redirect?.https_redirect !== true
  ) {
    problems.push('port 80 must only redirect to HTTPS');
  }
  return problems;
}
