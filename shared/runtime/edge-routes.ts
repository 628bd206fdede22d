/**
 * Which unit serves which path, first match wins. One table for every front door: the local
 * gateway routes by it (shared/runtime/rewrites.ts), and `npm run infra:routes` turns it into the
 * load balancer's URL map (infra/edge-routes.tf), so local and production routing cannot drift.
 * `*` is one path segment, `**` any number of them (the load balancer's path templates).
 */
export const edgeRoutes: ReadonlyArray<{ source: string; unit: string }> = [
  { source: '/api/health', unit: 'meta' },
  { source: '/api/openapi.json', unit: 'meta' },
  // RFC 9116: served by the API, not the web app's hosting, so it always reflects configuration.
  { source: '/.well-known/security.txt', unit: 'meta' },
  { source: '/api/orgs/*/keys', unit: 'keys' },
  { source: '/api/orgs/*/keys/**', unit: 'keys' },
  { source: '/api/keys/**', unit: 'keys' },
  { source: '/api/orgs/*/recordings', unit: 'recordings' },
  { source: '/api/orgs/*/recordings/**', unit: 'recordings' },
  { source: '/api/recordings/**', unit: 'recordings' },
  { source: '/api/orgs/*/allowlist', unit: 'allowlist' },
  { source: '/api/orgs/*/allowlist/**', unit: 'allowlist' },
  { source: '/api/allowlist/**', unit: 'allowlist' },
  { source: '/api/orgs/*/audit', unit: 'audit' },
  { source: '/api/orgs/*/audit/**', unit: 'audit' },
  { source: '/api/accounts/activity', unit: 'audit' },
  { source: '/api/accounts/**', unit: 'accounts' },
  { source: '/api/mfa/**', unit: 'accounts' },
  { source: '/api/passkeys', unit: 'accounts' },
  { source: '/api/passkeys/**', unit: 'accounts' },
  { source: '/api/login', unit: 'login' },
  { source: '/api/login/**', unit: 'login' },
  { source: '/api/sessions', unit: 'sessions' },
  { source: '/api/sessions/**', unit: 'sessions' },
  { source: '/api/orgs/*/sso', unit: 'login' },
  { source: '/api/orgs/*/sso/**', unit: 'login' },
  { source: '/api/orgs/*/domains', unit: 'login' },
  { source: '/api/orgs/*/domains/**', unit: 'login' },
  // SCIM 2.0 provisioning, served by the orgs unit (it changes memberships).
  { source: '/api/scim/**', unit: 'orgs' },
  { source: '/api/orgs', unit: 'orgs' },
  { source: '/api/orgs/**', unit: 'orgs' },
];
