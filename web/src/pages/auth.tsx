import { useEffect, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { ApiError, api } from '../api/client.js';
import type { LoginAnswer } from '../api/types.js';
import {
  ActionForm,
  Button,
  ErrorText,
  Field,
  Loading,
  Notice,
  Page,
  Submit,
  useAction,
  useLoad,
} from '../components/ui.js';
import {
  cancelPasskeyCeremony,
  isCeremonyAbort,
  signInWithPasskey,
  supportsPasskeyAutofill,
} from '../passkeys.js';
import {
  type FirebaseWeb,
  finishProviderSignIn,
  loadProviders,
  type Provider,
  providerNames,
  startProviderSignIn,
} from '../providers.js';
import { safeNext, useSession } from '../session.js';

function useQuery(): Record<string, string> {
  return useLocation().query;
}

export function Login() {
  const query = useQuery();
  const { route } = useLocation();
  const { refresh, user } = useSession();
  const next = safeNext(query.next);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [mfaToken, setMfaToken] = useState<string | null>(null);
  const [slug, setSlug] = useState('');

  useEffect(() => {
    if (user) route(next, true);
  }, [user, next, route]);

  const done = async () => {
    await refresh();
    route(next);
  };
  const signIn = useAction(async () => {
    try {
      await api<LoginAnswer>('POST', '/api/login', { email, password }, { anonymous: true });
    } catch (error) {
      if (
        error instanceof ApiError &&
        error.code === 'MFA_REQUIRED' &&
        typeof error.extra.mfaToken === 'string'
      ) {
        cancelPasskeyCeremony();
        setMfaToken(error.extra.mfaToken);
        return;
      }
      throw error;
    }
    await done();
  });
  const byPasskey = useAction(async () => {
    try {
      await signInWithPasskey();
    } catch (error) {
      if (isCeremonyAbort(error)) return;
      throw error;
    }
    await done();
  });

  /*
   * Passkey autofill (conditional UI). The options are fetched on the first focus of the Email
   * field, not on page load: each fetch stores a challenge and counts against the edge throttle
   * of /api/login/passkey/options for this address, so every page view (bots, the redirect of
   * signed-out visits, a tab left open) would spend them. Focusing the field is the first sign
   * that someone means to sign in, and it is where the browser shows the passkeys.
   */
  const autofill = useRef<'idle' | 'offered'>('idle');
  const offerPasskeys = () => {
    if (autofill.current !== 'idle') return;
    autofill.current = 'offered';
    void (async () => {
      if (!(await supportsPasskeyAutofill())) return;
      try {
        await signInWithPasskey({ autofill: true });
        await done();
      } catch (error) {
        // A later focus offers them again (a challenge lasts 5 minutes).
        autofill.current = 'idle';
        if (!isCeremonyAbort(error)) byPasskey.setError(error as Error);
      }
    })();
  };
  useEffect(() => cancelPasskeyCeremony, []);
  if (mfaToken) return <MfaStep mfaToken={mfaToken} onDone={done} />;

  return (
    <Page title="Sign in">
      {query.reason === 'revoked' && <Notice>You were signed out from another device.</Notice>}
      {query.reason === 'expired' && <Notice>Your session timed out. Sign in again.</Notice>}
      {query.reason === 'reset' && <Notice>Your password was changed. Sign in with the new one.</Notice>}
      <ActionForm class="card" onSubmit={signIn.run}>
        <Field
          label="Email"
          name="email"
          type="email"
          autoComplete="username webauthn"
          value={email}
          onInput={setEmail}
          onFocus={offerPasskeys}
          error={signIn.error}
          required
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onInput={setPassword}
          error={signIn.error}
          required
        />
        <ErrorText error={signIn.error} />
        <Submit busy={signIn.busy}>Sign in</Submit>
        <p class="links">
          <a href="/reset-password">Forgot your password?</a> ·{' '}
          <a href={`/signup${query.next ? `?next=${encodeURIComponent(next)}` : ''}`}>Create an account</a>
        </p>
      </ActionForm>
      <ProviderButtons next={next} />
      <section class="card" aria-labelledby="passkey-title">
        <h2 id="passkey-title">Passkey</h2>
        <ErrorText error={byPasskey.error} />
        <Button busy={byPasskey.busy} onClick={() => void byPasskey.run()}>
          Sign in with a passkey
        </Button>
      </section>
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault();
          const returnTo = `${location.origin}${next}`;
          location.assign(
            `/api/login/sso/${encodeURIComponent(slug.trim())}?returnTo=${encodeURIComponent(returnTo)}`,
          );
        }}
      >
        <h2>Single sign-on</h2>
        <Field
          label="Organization"
          name="orgSlug"
          hint="Your organization’s short name, e.g. acme"
          value={slug}
          onInput={setSlug}
          required
        />
        <button type="submit" class="btn plain">
          Sign in with SSO
        </button>
      </form>
    </Page>
  );
}

/** The second step of a sign-in (password or Google/GitHub) for accounts with two-factor. */
function MfaStep({ mfaToken, onDone }: { mfaToken: string; onDone: () => Promise<void> }) {
  const [code, setCode] = useState('');
  const second = useAction(async () => {
    await api<LoginAnswer>('POST', '/api/login/mfa', { mfaToken, code: code.trim() }, { anonymous: true });
    await onDone();
  });
  return (
    <Page title="Two-factor authentication">
      <ActionForm class="card" onSubmit={second.run}>
        <p>Enter the 6-digit code from your authenticator app, or one of your backup codes.</p>
        <Field
          label="Code"
          name="code"
          inputMode="numeric"
          autoComplete="one-time-code"
          value={code}
          onInput={setCode}
          error={second.error}
          required
        />
        <ErrorText error={second.error} />
        <Submit busy={second.busy}>Verify</Submit>
      </ActionForm>
    </Page>
  );
}

/** "Sign in with Google / GitHub", shown only when the API says Firebase is configured. */
function ProviderButtons({ next }: { next: string }) {
  const providers = useLoad(loadProviders);
  const go = useAction(async (config: FirebaseWeb, provider: Provider) => {
    await startProviderSignIn(config, provider, next);
  });
  const config = providers.data;
  if (!config || config.providers.length === 0) return null;
  return (
    <section class="card" aria-labelledby="providers-title">
      <h2 id="providers-title">Google or GitHub</h2>
      <ErrorText error={go.error} />
      <p class="actions">
        {config.providers.map((provider) => (
          <Button key={provider} busy={go.busy} onClick={() => void go.run(config, provider)}>
            Sign in with {providerNames[provider]}
          </Button>
        ))}
      </p>
    </section>
  );
}

/** Back from Google or GitHub: exchanges Firebase's ID token for our session. */
export function ProviderReturn() {
  const { route } = useLocation();
  const { refresh } = useSession();
  const [mfa, setMfa] = useState<{ token: string; next: string } | null>(null);
  const finish = useAction(async () => {
    const { idToken, next } = await finishProviderSignIn();
    try {
      await api<LoginAnswer>('POST', '/api/login/oauth', { idToken }, { anonymous: true });
    } catch (error) {
      if (
        error instanceof ApiError &&
        error.code === 'MFA_REQUIRED' &&
        typeof error.extra.mfaToken === 'string'
      ) {
        setMfa({ token: error.extra.mfaToken, next: safeNext(next) });
        return;
      }
      throw error;
    }
    await refresh();
    route(safeNext(next), true);
  });
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    void finish.run();
  }, []);
  if (mfa) {
    return (
      <MfaStep
        mfaToken={mfa.token}
        onDone={async () => {
          await refresh();
          route(mfa.next, true);
        }}
      />
    );
  }
  return (
    <Page title="Signing you in">
      {finish.error ? (
        <>
          <ErrorText error={finish.error} />
          <p>
            <a href="/login">Back to sign in</a>
          </p>
        </>
      ) : (
        <Loading what="your account" />
      )}
    </Page>
  );
}

export function Signup() {
  const query = useQuery();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [sent, setSent] = useState(false);
  const create = useAction(async () => {
    await api('POST', '/api/accounts/signup', { email, password, name }, { anonymous: true });
    setSent(true);
  });
  if (sent) {
    return (
      <Page title="Check your email">
        <Notice>We sent a link to {email}. Follow it to confirm your address, then sign in.</Notice>
        <p>
          Running locally? The mail is in the <a href="/dev/mailbox">local mailbox</a>.
        </p>
        <p>
          <a href={`/login${query.next ? `?next=${encodeURIComponent(safeNext(query.next))}` : ''}`}>
            Go to sign in
          </a>
        </p>
      </Page>
    );
  }
  return (
    <Page title="Create your account">
      <ActionForm class="card" onSubmit={create.run}>
        <Field
          label="Name"
          name="name"
          autoComplete="name"
          value={name}
          onInput={setName}
          error={create.error}
          required
        />
        <Field
          label="Email"
          name="email"
          type="email"
          autoComplete="email"
          value={email}
          onInput={setEmail}
          error={create.error}
          required
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          hint="12 characters or more; common passwords are refused"
          value={password}
          onInput={setPassword}
          error={create.error}
          required
        />
        <ErrorText error={create.error} />
        <Submit busy={create.busy}>Create account</Submit>
        <p class="links">
          Already have an account? <a href="/login">Sign in</a>
        </p>
      </ActionForm>
      <ProviderButtons next={safeNext(query.next)} />
    </Page>
  );
}

export function VerifyEmail() {
  const { token } = useQuery();
  const verify = useAction(async () => {
    await api('POST', '/api/accounts/verify-email', { token }, { anonymous: true });
    return true;
  });
  const [verified, setVerified] = useState(false);
  return (
    <Page title="Confirm your email">
      {verified ? (
        <>
          <Notice>Your email address is verified.</Notice>
          <p>
            <a class="btn primary" href="/login">
              Sign in
            </a>
          </p>
        </>
      ) : !token ? (
        <p class="error" role="alert">
          This link is incomplete. Open the link from the email again.
        </p>
      ) : (
        <form
          class="card"
          onSubmit={async (e) => {
            e.preventDefault();
            if (await verify.run()) setVerified(true);
          }}
        >
          <p>Confirm the email address for your SessionForge account.</p>
          <ErrorText error={verify.error} />
          {verify.error instanceof ApiError && verify.error.code === 'VALIDATION_FAILED' && (
            <p>The link was already used or has expired. Sign in to get a new one, or sign up again.</p>
          )}
          <Submit busy={verify.busy}>Verify</Submit>
        </form>
      )}
    </Page>
  );
}

export function ResetPassword() {
  const { token } = useQuery();
  const { route } = useLocation();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [sent, setSent] = useState(false);
  const request = useAction(async () => {
    await api('POST', '/api/accounts/password-reset/request', { email }, { anonymous: true });
    setSent(true);
  });
  const confirm = useAction(async () => {
    await api(
      'POST',
      '/api/accounts/password-reset/confirm',
      { token, newPassword: password },
      { anonymous: true },
    );
    route('/login?reason=reset');
  });
  if (token) {
    return (
      <Page title="Choose a new password">
        <ActionForm class="card" onSubmit={confirm.run}>
          <Field
            label="New password"
            name="newPassword"
            type="password"
            autoComplete="new-password"
            hint="12 characters or more; every session of your account will be signed out"
            value={password}
            onInput={setPassword}
            error={confirm.error}
            required
          />
          <ErrorText error={confirm.error} />
          <Submit busy={confirm.busy}>Set new password</Submit>
        </ActionForm>
      </Page>
    );
  }
  return (
    <Page title="Reset your password">
      {sent ? (
        <Notice>If an account exists for {email}, we sent it a link to choose a new password.</Notice>
      ) : (
        <ActionForm class="card" onSubmit={request.run}>
          <Field
            label="Email"
            name="email"
            type="email"
            autoComplete="email"
            value={email}
            onInput={setEmail}
            error={request.error}
            required
          />
          <ErrorText error={request.error} />
          <Submit busy={request.busy}>Send reset link</Submit>
        </ActionForm>
      )}
    </Page>
  );
}

export function AcceptInvitation() {
  const { token } = useQuery();
  const { user, refresh } = useSession();
  const { route } = useLocation();
  const here = `/invitations/accept?token=${encodeURIComponent(token ?? '')}`;
  const accept = useAction(async () => {
    await api('POST', '/api/orgs/invitations/accept', { token });
    await refresh();
    route('/settings/security?joined=1');
  });
  return (
    <Page title="Join an organization">
      {!token ? (
        <p class="error" role="alert">
          This invitation link is incomplete. Open the link from the email again.
        </p>
      ) : user === undefined ? null : user === null ? (
        <div class="card">
          <p>
            You were invited to an organization on SessionForge. Sign in (or create an account with the
            invited address) to accept.
          </p>
          <p class="actions">
            <a class="btn primary" href={`/login?next=${encodeURIComponent(here)}`}>
              Sign in
            </a>
            <a class="btn plain" href={`/signup?next=${encodeURIComponent(here)}`}>
              Create account
            </a>
          </p>
        </div>
      ) : (
        <div class="card">
          <p>Accept the invitation as {user.email}?</p>
          <ErrorText error={accept.error} />
          <button type="button" class="btn primary" disabled={accept.busy} onClick={() => void accept.run()}>
            Accept invitation
          </button>
        </div>
      )}
    </Page>
  );
}
