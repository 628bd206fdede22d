import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('runs on embedded defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.port).toBe(8080);
    expect(config.database).toEqual({ kind: 'pglite', dataDir: '.data' });
    expect(config.bus).toBe('local');
    expect(config.secretsSource).toBe('local');
    expect(config.mail.transport).toBe('outbox-dir');
    expect(config.passwordHashCost).toBe(12);
    expect(config.trustedProxyHops).toBe(0);
    expect(config.sessionValidityCacheSeconds).toBe(0);
    expect(config.appOrigins).toEqual(['http://localhost:8080']);
  });

  it('locates sign-ins with the bundled database unless GEOIP_DATABASE names another file', () => {
    expect(loadConfig({}).geoipDatabase).toBeUndefined();
    expect(loadConfig({ GEOIP_DATABASE: '  ' }).geoipDatabase).toBeUndefined();
    expect(loadConfig({ GEOIP_DATABASE: '/srv/GeoIP2-City.mmdb' }).geoipDatabase).toBe(
      '/srv/GeoIP2-City.mmdb',
    );
  });

  it('uses PostgreSQL when DATABASE_URL is set', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u@127.0.0.1:5432/db' });
    expect(config.database).toEqual({ kind: 'postgres', url: 'postgres://u@127.0.0.1:5432/db', poolMax: 5 });
  });

  it('switches to Google Cloud services when a project is set', () => {
    const config = loadConfig({
      GOOGLE_CLOUD_PROJECT: 'p',
      CLOUD_SQL_INSTANCE: 'p:europe-west1:sf',
      DB_USER: 'accounts@p.iam',
      RECORDINGS_BUCKET: 'r',
      AUDIT_CHECKPOINT_BUCKET: 'a',
    });
    expect(config.database.kind).toBe('cloud-sql');
    expect(config.bus).toBe('pubsub');
    expect(config.secretsSource).toBe('secret-manager');
    expect(config.blobStore).toBe('gcs');
  });

  it('lets outbound fetches reach private addresses and plain http only in embedded mode, unless told otherwise', () => {
    expect(loadConfig({}).outbound).toEqual({ allowPrivate: true, allowHttp: true });
    expect(loadConfig({ OUTBOUND_ALLOW_PRIVATE: 'false' }).outbound).toEqual({
      allowPrivate: false,
      allowHttp: true,
    });
    const cloud = { GOOGLE_CLOUD_PROJECT: 'p', BLOB_STORE: 'local' };
    expect(loadConfig(cloud).outbound).toEqual({ allowPrivate: false, allowHttp: false });
    // The switch opens private ranges, never plain http, on Google Cloud.
    expect(loadConfig({ ...cloud, OUTBOUND_ALLOW_PRIVATE: 'true' }).outbound).toEqual({
      allowPrivate: true,
      allowHttp: false,
    });
    expect(() => loadConfig({ OUTBOUND_ALLOW_PRIVATE: 'yes' })).toThrow(/OUTBOUND_ALLOW_PRIVATE/);
  });

  it('names the bad variable in the startup error', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ TRUSTED_PROXY_HOPS: '-1' })).toThrow(/TRUSTED_PROXY_HOPS/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ CLOUD_SQL_INSTANCE: 'p:r:i' })).toThrow(/DB_USER/);
    expect(() => loadConfig({ APP_URL: 'javascript:alert(1)' })).toThrow(/APP_URL/);
  });

  it('offers Google/GitHub sign-in to the console only with a Firebase Web API key, and only the providers named', () => {
    expect(loadConfig({}).firebaseWeb).toBeUndefined();
    expect(loadConfig({ FIREBASE_WEB_API_KEY: 'web-key' }).firebaseWeb).toEqual({
      apiKey: 'web-key',
      providers: ['google.com', 'github.com'],
    });
    expect(
      loadConfig({ FIREBASE_WEB_API_KEY: 'web-key', FIREBASE_SIGN_IN_PROVIDERS: ' github.com ' }).firebaseWeb
        ?.providers,
    ).toEqual(['github.com']);
    expect(() =>
      loadConfig({ FIREBASE_WEB_API_KEY: 'web-key', FIREBASE_SIGN_IN_PROVIDERS: 'google.com,facebook.com' }),
    ).toThrow(/FIREBASE_SIGN_IN_PROVIDERS/);
  });

  it('refuses a password hash cost below 12', () => {
    expect(() => loadConfig({ PASSWORD_HASH_COST: '4' })).toThrow(ConfigError);
  });

  it('stops idle recordings after a day by default, and takes 10 minutes to 7 days', () => {
    expect(loadConfig({}).recordingIdleStopMinutes).toBe(1440);
    expect(loadConfig({ RECORDING_IDLE_STOP_MINUTES: '10' }).recordingIdleStopMinutes).toBe(10);
    expect(loadConfig({ RECORDING_IDLE_STOP_MINUTES: '10080' }).recordingIdleStopMinutes).toBe(10080);
  });

  it('refuses an idle stop time that is not whole minutes from 10 to 10080, naming the variable and the range', () => {
    for (const value of ['9', '10081', '0', '-60', '90.5', 'a day', '']) {
      expect(() => loadConfig({ RECORDING_IDLE_STOP_MINUTES: value })).toThrow(
        'RECORDING_IDLE_STOP_MINUTES: must be a whole number of minutes from 10 to 10080 (7 days)',
      );
    }
  });

  it('collects every problem instead of stopping at the first', () => {
    try {
      loadConfig({ BUS: 'pubsub', BLOB_STORE: 'gcs' });
      expect.unreachable();
    } catch (error) {
      expect((error as ConfigError).problems.length).toBeGreaterThanOrEqual(3);
    }
  });

  it('takes retired audit signing keys as base64 Ed25519 public keys and names a bad entry', () => {
    const ed25519 = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      type: 'spki',
      format: 'der',
    });
    const good = ed25519.toString('base64');
    expect(loadConfig({ AUDIT_RETIRED_PUBLIC_KEYS: ` ${good} ,` }).auditRetiredPublicKeys).toEqual([good]);
    expect(loadConfig({}).auditRetiredPublicKeys).toEqual([]);
    expect(() =>
      loadConfig({ AUDIT_RETIRED_PUBLIC_KEYS: `${good},${rsa.toString('base64')},not-base64!` }),
    ).toThrow(/entry 2 is not a base64 Ed25519 public key[\s\S]*entry 3 is not/);
  });
});
