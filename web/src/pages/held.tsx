import { useEffect, useState } from 'preact/hooks';
import { api } from '../api/client.js';
import type { SessionHold, SessionInfo } from '../api/types.js';
import { ActionForm, Button, ErrorText, Field, Loading, Page, Submit, useAction } from '../components/ui.js';
import { stepUpWithPasskey } from '../passkeys.js';
import { useSession } from '../session.js';
import { DbIpAttribution, place } from './security-events.js';

/** How often a session waiting for the mailed link asks whether it was answered (on another device, say). */
const LINK_CHECK_MS = 4000;

/**
 * A session held after an impossible-travel sign-in: nothing but this screen until the user
 * confirms with a second factor or a passkey, or answers the mailed "Was this you?" link. The
 * password never lifts the hold (whoever signed in knew it).
 */
export function Held({ session }: { session: SessionInfo }) {
  const { refresh, signedOut } = useSession();
  const [hold, setHold] = useState<SessionHold | null | undefined>(undefined);
  const [code, setCode] = useState('');

  useEffect(() => {
    let closed = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const check = async () => {
      try {
        const r = await api<{ hold: SessionHold | null }>('GET', '/api/sessions/current');
        if (closed) return;
        if (!r.hold) {
          await refresh();
          return;
        }
        setHold(r.hold);
        if (r.hold.methods.includes('link')) timer = setTimeout(() => void check(), LINK_CHECK_MS);
      } catch {
        // A 401 (the link's "no") goes to the sign-in page through the client; otherwise try again.
        if (!closed) timer = setTimeout(() => void check(), LINK_CHECK_MS);
      }
    };
    void check();
    return () => {
      closed = true;
      clearTimeout(timer);
    };
  }, [refresh]);

  const confirm = useAction(async () => {
    await api('POST', '/api/sessions/step-up', { code: code.trim() });
    await refresh();
  });
  const byPasskey = useAction(async () => {
    await stepUpWithPasskey();
    await refresh();
  });
  const logout = useAction(async () => {
    await api('POST', '/api/login/logout');
    signedOut('chosen');
  });

  const where = place(session.country, session.city);
  return (
    <Page title="We noticed a sign-in from an unusual place">
      <section class="card held" aria-labelledby="held-title">
        <h2 id="held-title">Confirm it’s you</h2>
        <p>
          This sign-in{where ? ` from ${where}` : ''}
          {session.ip ? ` (${session.ip})` : ''} came too soon after your last one somewhere else for anyone
          to have travelled between them. Until you confirm it, this session can do nothing else. Nobody else
          was signed out.
        </p>
        {hold === undefined ? (
          <Loading what="how to confirm" />
        ) : (
          hold && (
            <>
              {hold.methods.includes('code') && (
                <ActionForm onSubmit={confirm.run}>
                  <Field
                    label="Code"
                    name="code"
                    inputMode="numeric"
                    autoComplete="one-time-code"
                    hint="From your authenticator app, or a backup code"
                    value={code}
                    onInput={setCode}
                    error={confirm.error}
                    required
                  />
                  <ErrorText error={confirm.error} />
                  <Submit busy={confirm.busy}>Confirm</Submit>
                </ActionForm>
              )}
              {hold.methods.includes('link') && (
                <p class="notice" role="status">
                  We sent you a link. Open the email “Was this you?” and choose yes to continue here, or no to
                  end this session. This page moves on by itself once you answered.
                </p>
              )}
              {hold.methods.includes('passkey') && (
                <>
                  <ErrorText error={byPasskey.error} />
                  <Button busy={byPasskey.busy} onClick={() => void byPasskey.run()}>
                    Use a passkey
                  </Button>
                </>
              )}
            </>
          )
        )}
        <div class="actions">
          <Button variant="plain" busy={logout.busy} onClick={() => void logout.run()}>
            Sign out
          </Button>
        </div>
        {where && <DbIpAttribution />}
      </section>
    </Page>
  );
}
