import { availableParallelism, loadavg } from 'node:os';
import { verifyAuthenticationResponse } from '@simplewebauthn/server';
import { loadConfig } from '../shared/config/config.js';
import { createLogger } from '../shared/log/logger.js';
import { counterVerdict, relyingParty } from '../shared/passkeys/model.js';
import { type LocalRuntime, startLocalRuntime } from '../shared/runtime/local.js';
import { openTestDatabase } from '../tests/helpers/db.js';
import { SoftAuthenticator } from '../tests/helpers/passkeys.js';
import { machineLine, percentile, type Row, report } from './lib/report.js';

/**
 * Passkey figures: (1) one assertion's verification in process, no I/O (the library's checks of
 * challenge, origin, RP ID hash, flags and the ES256 signature, plus the counter verdict), target
 * p50 ≤ 1 ms; (2) a whole passkey sign-in (options + verify over HTTP) against a whole password
 * sign-in (POST /api/login at the production bcrypt cost), alternated in one run on one server,
 * target passkey ≤ 0.2× password on PostgreSQL.
 */
const VERIFY_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2000);
const SIGN_INS = Number(process.env.BENCH_SIGN_INS ?? 40);
const APP_URL = 'http://localhost:8080';
const RP = { origin: APP_URL, rpId: 'localhost' };
const PASSWORD = 'a long enough passphrase 42';

async function verifyInProcess(): Promise<Row> {
  const rp = relyingParty(APP_URL, [APP_URL]);
  const authenticator = new SoftAuthenticator(RP);
  const registration = authenticator.create({ challenge: 'AAAA', user: { id: 'bench' } });
  // The public key as the server stores it: taken from the registration the same way the service does.
  const { verifyRegistrationResponse } = await import('@simplewebauthn/server');
  const registered = await verifyRegistrationResponse({
    response: registration,
    expectedChallenge: 'AAAA',
    expectedOrigin: rp.origins,
    expectedRPID: rp.id,
  });
  if (!registered.verified) throw new Error('the bench registration did not verify');
  const credential = { ...registered.registrationInfo.credential, counter: 0 };
  const assertions = Array.from({ length: VERIFY_ROUNDS + 200 }, (_, i) => {
    const challenge = Buffer.from(`challenge-${i}`).toString('base64url');
    return { challenge, response: authenticator.get({ challenge }) };
  });
  const times: number[] = [];
  let stored = 0;
  for (const [i, { challenge, response }] of assertions.entries()) {
    const start = performance.now();
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origins,
      expectedRPID: rp.id,
      credential,
      requireUserVerification: true,
    });
    const verdict = counterVerdict(stored, result.authenticationInfo.newCounter);
    const elapsed = performance.now() - start;
    if (!result.verified || verdict !== 'ok') throw new Error('a bench assertion was refused');
    stored = result.authenticationInfo.newCounter;
    if (i >= 200) times.push(elapsed);
  }
  times.sort((a, b) => a - b);
  return {
    measure: 'assertion verification, in process (no I/O)',
    'p50 ms': percentile(times, 50),
    'p99 ms': percentile(times, 99),
    'passkey / password p50': '',
    samples: VERIFY_ROUNDS,
  };
}

async function boot(engine: 'pglite' | 'postgres'): Promise<LocalRuntime> {
  const database = await openTestDatabase(engine);
  return startLocalRuntime(
    loadConfig({ PORT: '0', DATA_DIR: `/tmp/sf-bench-passkeys-${engine}`, TRUSTED_PROXY_HOPS: '1' }),
    { database, env: {}, migrate: false, scheduler: false, logger: createLogger('silent') },
  );
}

let address = 0;
/** A fresh client address per request: the per-IP sign-in limits must not decide the figures. */
const client = () => {
  address++;
  return {
    'content-type': 'application/json',
    'x-forwarded-for': `100.80.${(address >> 8) & 255}.${address & 255}`,
  };
};

async function post(runtime: LocalRuntime, path: string, body: unknown, token?: string) {
  const response = await fetch(`${runtime.url}${path}`, {
    method: 'POST',
    headers: { ...client(), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as any;
  if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** A verified user with a password (production bcrypt cost) and one passkey, registered over HTTP. */
async function seed(runtime: LocalRuntime, authenticator: SoftAuthenticator) {
  const p = runtime.platform;
  const email = 'bench@example.com';
  const now = new Date();
  const user = await p.db
    .insertInto('users')
    .values({ email, email_normalized: email, name: 'Bench', email_verified_at: now, disabled_at: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  const { core } = await import('../shared/runtime/core.js');
  const hash = await (await core()).hasher.hash(PASSWORD);
  await p.db.insertInto('password_credentials').values({ user_id: user.id, hash, updated_at: now }).execute();
  const login = await post(runtime, '/api/login', { email, password: PASSWORD });
  const sudo = await post(runtime, '/api/sessions/step-up', { password: PASSWORD }, login.token);
  const options = await post(runtime, '/api/passkeys/register/options', {}, sudo.token);
  await post(
    runtime,
    '/api/passkeys/register/verify',
    { response: authenticator.create(options) },
    sudo.token,
  );
  return email;
}

async function signIns(engine: 'pglite' | 'postgres'): Promise<Row[]> {
  const runtime = await boot(engine);
  const authenticator = new SoftAuthenticator(RP);
  const email = await seed(runtime, authenticator);
  const password = async () => post(runtime, '/api/login', { email, password: PASSWORD });
  const passkey = async () => {
    const { challengeId, options } = await post(runtime, '/api/login/passkey/options', {});
    return post(runtime, '/api/login/passkey/verify', { challengeId, response: authenticator.get(options) });
  };
  for (let i = 0; i < 3; i++) {
    await password();
    await passkey();
  }
  const passwordTimes: number[] = [];
  const passkeyTimes: number[] = [];
  for (let i = 0; i < SIGN_INS; i++) {
    let start = performance.now();
    await password();
    passwordTimes.push(performance.now() - start);
    start = performance.now();
    await passkey();
    passkeyTimes.push(performance.now() - start);
  }
  await runtime.stop();
  passwordTimes.sort((a, b) => a - b);
  passkeyTimes.sort((a, b) => a - b);
  const passwordP50 = percentile(passwordTimes, 50);
  const passkeyP50 = percentile(passkeyTimes, 50);
  return [
    {
      measure: `password sign-in end to end, ${engine}`,
      'p50 ms': passwordP50,
      'p99 ms': percentile(passwordTimes, 99),
      'passkey / password p50': '',
      samples: SIGN_INS,
    },
    {
      measure: `passkey sign-in end to end, ${engine}`,
      'p50 ms': passkeyP50,
      'p99 ms': percentile(passkeyTimes, 99),
      'passkey / password p50': `${(passkeyP50 / passwordP50).toFixed(3)}×`,
      samples: SIGN_INS,
    },
  ];
}

const verifyRow = await verifyInProcess();
const endToEnd = [...(await signIns('pglite'))];
if (process.env.DATABASE_URL) endToEnd.push(...(await signIns('postgres')));
report(
  'passkeys',
  'Passkey assertion verification and passkey sign-in against password sign-in (issue 21)',
  [
    machineLine(),
    `(1) verifyAuthenticationResponse (@simplewebauthn/server: clientDataJSON type, challenge, origin, RP ID hash, UP/UV flags, ES256 signature over WebCrypto) plus the counter verdict, on ${VERIFY_ROUNDS} distinct assertions of a P-256 software authenticator signed beforehand; no database or network. Target p50 ≤ 1 ms.`,
    `(2) ${SIGN_INS} alternated sign-ins of each kind through the local gateway, each from a fresh client address: password = POST /api/login at the production bcrypt cost (12); passkey = POST /api/login/passkey/options + signing in the software authenticator + POST /api/login/passkey/verify (two round trips, no bcrypt). Both start a session, track the device and audit. Target passkey ≤ 0.2× password on PostgreSQL.`,
    `Load average (1/5/15 min) at the end of the run: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(
        ' / ',
      )} on ${availableParallelism()} cores, shared with other engineers' test runs: absolute figures are a loaded machine's.`,
  ],
  [verifyRow, ...endToEnd],
);
