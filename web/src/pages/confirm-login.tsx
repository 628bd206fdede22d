import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api } from '../api/client.js';
import { Button, ErrorText, Page, useAction } from '../components/ui.js';

type Answered = { status: 'confirmed' | 'denied'; passwordResetMailed: boolean };

/**
 * The mailed "Was this you?" link of an impossible-travel sign-in (single use, 15 minutes). It
 * works without being signed in, from any device: "yes" lets the held session continue, "no"
 * ends it and mails a password-reset link.
 */
export function ConfirmLogin() {
  const { query } = useLocation();
  const token = query.token ?? '';
  const [answered, setAnswered] = useState<Answered | null>(null);
  const answer = useAction(async (choice: 'yes' | 'no') => {
    setAnswered(
      await api<Answered>(
        'POST',
        '/api/accounts/login-confirmation',
        { token, answer: choice },
        { anonymous: true },
      ),
    );
  });

  if (answered?.status === 'confirmed') {
    return (
      <Page title="Sign-in confirmed">
        <section class="card">
          <p role="status">Thanks. That sign-in can continue now; the page it waits on moves on by itself.</p>
        </section>
      </Page>
    );
  }
  if (answered?.status === 'denied') {
    return (
      <Page title="That session is signed out">
        <section class="card">
          <p role="status">
            We signed out the session that was not you. Whoever started it knew your password, so change it
            now.
            {answered.passwordResetMailed && ' We sent you an email with a link to choose a new one.'}
          </p>
          <p>
            <a class="btn primary" href="/reset-password">
              Reset your password
            </a>
          </p>
        </section>
      </Page>
    );
  }
  return (
    <Page title="Was this you?">
      <section class="card">
        {!token ? (
          <p>This link is incomplete. Open the link from the email again.</p>
        ) : (
          <>
            <p>
              Someone signed in to your account from a place you could not have travelled to since your last
              sign-in. The email says where and when. If it was you (a VPN, a trip, a new network), say yes;
              if not, we sign that session out.
            </p>
            <ErrorText error={answer.error} />
            <div class="actions">
              <Button variant="primary" busy={answer.busy} onClick={() => void answer.run('yes')}>
                Yes, it was me
              </Button>
              <Button variant="danger" busy={answer.busy} onClick={() => void answer.run('no')}>
                No, sign it out
              </Button>
            </div>
          </>
        )}
      </section>
    </Page>
  );
}
