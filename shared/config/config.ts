import { createPublicKey } from 'node:crypto';
import { z } from 'zod';

/**
 * Every operator setting, validated once at start. The loader takes `env` as a parameter so
 * tests and the local runtime build configs without touching process.env.
 * Each variable is documented in README.md ("Configuration").
 */
const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const IDLE_STOP_RANGE = 'must be a whole number of minutes from 10 to 10080 (7 days)';

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  DATA_DIR: z.string().min(1).default('.data'),
  APP_URL: z.url({ protocol: /^https?$/ }).default('http://localhost:8080'),
  /** Extra origins `returnTo` may point at (comma separated), besides APP_URL's. */
  APP_ORIGINS: optionalString,
  DATABASE_URL: optionalString,
  CLOUD_SQL_INSTANCE: optionalString,
  DB_USER: optionalString,
  DB_NAME: z.string().min(1).default('sessionforge'),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(5),
  GOOGLE_CLOUD_PROJECT: optionalString,
  /** Firebase project whose Auth ID tokens POST /api/login/oauth accepts (default GOOGLE_CLOUD_PROJECT). */
  FIREBASE_PROJECT_ID: optionalString,
  /**
   * The Firebase project's Web API key (public by design: it names the project to Firebase Auth's
   * REST API). With it the console offers "Sign in with Google/GitHub"; without it, it does not.
   */
  FIREBASE_WEB_API_KEY: optionalString,
  /** Which of Firebase's providers the console offers (comma separated; default both). */
  FIREBASE_SIGN_IN_PROVIDERS: z
    .string()
    .trim()
    .default('google.com,github.com')
    .transform((value) =>
      value
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(['google.com', 'github.com'], { error: 'must be google.com and/or github.com' }))),
  SECRETS_SOURCE: z.enum(['local', 'secret-manager']).optional(),
  BUS: z.enum(['local', 'pubsub']).optional(),
  BLOB_STORE: z.enum(['local', 'gcs']).optional(),
  FAST_STATE_STORE: z.enum(['postgres', 'firestore']).default('postgres'),
  RECORDINGS_BUCKET: optionalString,
  AUDIT_CHECKPOINT_BUCKET: optionalString,
  /** Public keys (base64 SPKI DER, comma separated) of earlier audit signing keys verify still trusts. */
  AUDIT_RETIRED_PUBLIC_KEYS: optionalString,
  MAIL_TRANSPORT: z.enum(['outbox-dir', 'smtp']).optional(),
  MAIL_FROM: z.string().min(3).default('SessionForge <no-reply@sessionforge.local>'),
  /** DNS servers (comma separated, `ip` or `ip:port`) that verify domain TXT records; default the system's. */
  DNS_RESOLVER: optionalString,
  TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  PASSWORD_HASH_COST: z.coerce.number().int().min(12).max(15).default(12),
  /** The most one terminal recording may buffer before frames are refused (413). */
  RECORDING_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024 * 1024)
    .max(8 * 1024 * 1024 * 1024)
    .default(512 * 1024 * 1024),
  /**
   * A recording with no frame for this long is stopped and archived by the hourly sweep. From 10
   * minutes (frame times are kept to the minute) to 7 days (the buffer is not long-term storage).
   */
  RECORDING_IDLE_STOP_MINUTES: z.coerce
    .number({ error: IDLE_STOP_RANGE })
    .int({ error: IDLE_STOP_RANGE })
    .min(10, { error: IDLE_STOP_RANGE })
    .max(7 * 24 * 60, { error: IDLE_STOP_RANGE })
    .default(24 * 60),
  /** A MaxMind-format city database to locate sign-ins with, instead of the bundled DB-IP Lite. */
  GEOIP_DATABASE: optionalString,
  SESSION_VALIDITY_CACHE_SECONDS: z.coerce.number().int().min(0).max(60).default(0),
  /** Days a deleted org can be restored before the purge (README "Deleting an org"). */
  ORG_DELETION_GRACE_DAYS: z.coerce.number().int().min(1).max(90).default(7),
  /** Days a deleted org's closed audit chain is kept after the purge. */
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(30).max(3650).default(400),
  /** Days ended sessions, forgotten devices and used tokens are kept (README "Data retention"). */
  SESSION_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /** Days one-time tokens (used or expired) and step-up/MFA challenges are kept. */
  TOKEN_RETENTION_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  /** security.txt (RFC 9116): where to report, and the policy page. */
  SECURITY_CONTACT: z.string().trim().min(1).default('mailto:security@sessionforge.local'),
  SECURITY_POLICY_URL: optionalString,
  SECURITY_TXT_LANGUAGES: z.string().trim().min(1).default('en'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /**
   * Whether fetches made for a user (OIDC discovery, JWKS, token endpoint) may reach loopback and
   * private addresses. Default: true in embedded mode (the local OIDC provider), false on Google Cloud.
   */
  OUTBOUND_ALLOW_PRIVATE: z.enum(['true', 'false']).optional(),
  /** Set by Cloud Run functions to the entry point, which is the unit's name (infra/functions.tf). */
  FUNCTION_TARGET: optionalString,
});

export type Env = Record<string, string | undefined>;

export interface Config {
  port: number;
  dataDir: string;
  appUrl: string;
  /** Origins (scheme://host[:port]) redirects may target. Always contains APP_URL's origin. */
  appOrigins: string[];
  database:
    | { kind: 'pglite'; dataDir: string | null }
    | { kind: 'postgres'; url: string; poolMax: number }
    | { kind: 'cloud-sql'; instance: string; user: string; database: string; poolMax: number };
  googleCloudProject: string | undefined;
  /** Where domain verification asks for TXT records (DNS_RESOLVER); empty: the system's resolvers. */
  dnsResolvers: string[];
  firebaseProjectId: string | undefined;
  /** What the console needs to offer Google/GitHub sign-in; undefined when FIREBASE_WEB_API_KEY is unset. */
  firebaseWeb: { apiKey: string; providers: Array<'google.com' | 'github.com'> } | undefined;
  secretsSource: 'local' | 'secret-manager';
  bus: 'local' | 'pubsub';
  blobStore: 'local' | 'gcs';
  fastStateStore: 'postgres' | 'firestore';
  buckets: { recordings: string | undefined; auditCheckpoints: string | undefined };
  /** Base64 SPKI DER of retired audit checkpoint signing keys (checked to be Ed25519 at load). */
  auditRetiredPublicKeys: string[];
  mail: { transport: 'outbox-dir' | 'smtp'; from: string };
  trustedProxyHops: number;
  passwordHashCost: number;
  sessionValidityCacheSeconds: number;
  /** MaxMind-format database file; undefined: the bundled DB-IP Lite City. */
  geoipDatabase: string | undefined;
  recordingMaxBytes: number;
  recordingIdleStopMinutes: number;
  orgDeletionGraceDays: number;
  auditRetentionDays: number;
  retention: { sessionDays: number; tokenDays: number };
  securityTxt: { contact: string; policyUrl: string; languages: string };
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** The outbound client (shared/outbound): private addresses and plain http only in embedded mode. */
  outbound: { allowPrivate: boolean; allowHttp: boolean };
  /** The deploy unit this process runs (FUNCTION_TARGET); undefined in the local runtime. */
  unit: string | undefined;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  const onGoogleCloud = e.GOOGLE_CLOUD_PROJECT !== undefined;

  let database: Config['database'];
  if (e.CLOUD_SQL_INSTANCE) {
    if (!e.DB_USER) problems.push('DB_USER: required when CLOUD_SQL_INSTANCE is set (the IAM database user)');
    database = {
      kind: 'cloud-sql',
      instance: e.CLOUD_SQL_INSTANCE,
      user: e.DB_USER ?? '',
      database: e.DB_NAME,
      poolMax: e.DB_POOL_MAX,
    };
  } else if (e.DATABASE_URL) {
    if (!/^postgres(ql)?:\/\//.test(e.DATABASE_URL)) {
      problems.push('DATABASE_URL: must be a postgres:// or postgresql:// URL');
    }
    database = { kind: 'postgres', url: e.DATABASE_URL, poolMax: e.DB_POOL_MAX };
  } else {
    database = { kind: 'pglite', dataDir: e.DATA_DIR };
  }

  const secretsSource = e.SECRETS_SOURCE ?? (onGoogleCloud ? 'secret-manager' : 'local');
  const bus = e.BUS ?? (onGoogleCloud ? 'pubsub' : 'local');
  const blobStore = e.BLOB_STORE ?? (onGoogleCloud ? 'gcs' : 'local');
  const mailTransport = e.MAIL_TRANSPORT ?? (onGoogleCloud ? 'smtp' : 'outbox-dir');
  if (secretsSource === 'secret-manager' && !onGoogleCloud) {
    problems.push('GOOGLE_CLOUD_PROJECT: required when SECRETS_SOURCE=secret-manager');
  }
  if (bus === 'pubsub' && !onGoogleCloud) problems.push('GOOGLE_CLOUD_PROJECT: required when BUS=pubsub');
  if (blobStore === 'gcs') {
    if (!e.RECORDINGS_BUCKET) problems.push('RECORDINGS_BUCKET: required when BLOB_STORE=gcs');
    if (!e.AUDIT_CHECKPOINT_BUCKET) problems.push('AUDIT_CHECKPOINT_BUCKET: required when BLOB_STORE=gcs');
  }

  const appOrigin = new URL(e.APP_URL).origin;
  const extraOrigins: string[] = [];
  for (const raw of (e.APP_ORIGINS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    try {
      extraOrigins.push(new URL(raw).origin);
    } catch {
      problems.push(`APP_ORIGINS: "${raw}" is not a URL`);
    }
  }
  const auditRetiredPublicKeys = (e.AUDIT_RETIRED_PUBLIC_KEYS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  auditRetiredPublicKeys.forEach((key, index) => {
    if (!isEd25519Spki(key)) {
      problems.push(
        `AUDIT_RETIRED_PUBLIC_KEYS: entry ${index + 1} is not a base64 Ed25519 public key (SPKI DER)`,
      );
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    port: e.PORT,
    dataDir: e.DATA_DIR,
    appUrl: e.APP_URL.replace(/\/+$/, ''),
    appOrigins: [...new Set([appOrigin, ...extraOrigins])],
    database,
    googleCloudProject: e.GOOGLE_CLOUD_PROJECT,
    firebaseProjectId: e.FIREBASE_PROJECT_ID ?? e.GOOGLE_CLOUD_PROJECT,
    firebaseWeb: e.FIREBASE_WEB_API_KEY
      ? { apiKey: e.FIREBASE_WEB_API_KEY, providers: [...new Set(e.FIREBASE_SIGN_IN_PROVIDERS)] }
      : undefined,
    secretsSource,
    bus,
    blobStore,
    fastStateStore: e.FAST_STATE_STORE,
    buckets: { recordings: e.RECORDINGS_BUCKET, auditCheckpoints: e.AUDIT_CHECKPOINT_BUCKET },
    auditRetiredPublicKeys,
    mail: { transport: mailTransport, from: e.MAIL_FROM },
    trustedProxyHops: e.TRUSTED_PROXY_HOPS,
    dnsResolvers: (e.DNS_RESOLVER ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
    passwordHashCost: e.PASSWORD_HASH_COST,
    sessionValidityCacheSeconds: e.SESSION_VALIDITY_CACHE_SECONDS,
    geoipDatabase: e.GEOIP_DATABASE,
    recordingMaxBytes: e.RECORDING_MAX_BYTES,
    recordingIdleStopMinutes: e.RECORDING_IDLE_STOP_MINUTES,
    orgDeletionGraceDays: e.ORG_DELETION_GRACE_DAYS,
    auditRetentionDays: e.AUDIT_RETENTION_DAYS,
    retention: { sessionDays: e.SESSION_RETENTION_DAYS, tokenDays: e.TOKEN_RETENTION_DAYS },
    securityTxt: {
      contact: e.SECURITY_CONTACT,
      policyUrl: e.SECURITY_POLICY_URL ?? `${e.APP_URL.replace(/\/+$/, '')}/security`,
      languages: e.SECURITY_TXT_LANGUAGES,
    },
    logLevel: e.LOG_LEVEL,
    outbound: {
      allowPrivate: e.OUTBOUND_ALLOW_PRIVATE ? e.OUTBOUND_ALLOW_PRIVATE === 'true' : !onGoogleCloud,
      // https is never optional on Google Cloud, whatever the private-address switch says.
      allowHttp: !onGoogleCloud,
    },
    unit: e.FUNCTION_TARGET,
  };
}

function isEd25519Spki(base64: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return false;
  try {
    const key = createPublicKey({ key: Buffer.from(base64, 'base64'), format: 'der', type: 'spki' });
    return key.asymmetricKeyType === 'ed25519';
  } catch {
    return false;
  }
}
