import { useEffect, useRef, useState } from 'preact/hooks';
import { type ApiError, api, setStepUpPrompt } from '../api/client.js';
import { stepUpWithPasskey } from '../passkeys.js';
import { ActionForm, Button, ErrorText, Field, Submit, useAction } from './ui.js';

type Pending = { resolve: (ok: boolean) => void; reason: ApiError };

/**
 * The step-up dialog: whenever any call answers STEP_UP_REQUIRED, ask for the password (or a
 * code, for accounts with two-factor), confirm it, and let the caller retry its action.
 */
export function StepUpDialog() {
  const dialog = useRef<HTMLDialogElement>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const [mode, setMode] = useState<'password' | 'code'>('password');
  const [value, setValue] = useState('');

  useEffect(() => {
    setStepUpPrompt(
      (reason) =>
        new Promise<boolean>((resolve) => {
          // A held sign-in (impossible travel) gets its own screen (pages/held.tsx), not this dialog.
          if (reason.extra.reason === 'impossible_travel') return resolve(false);
          setValue('');
          const methods = Array.isArray(reason.extra.methods) ? (reason.extra.methods as string[]) : [];
          if (methods.includes('totp') || methods.includes('code')) setMode('code');
          setPending({ resolve, reason });
        }),
    );
    return () => setStepUpPrompt(null);
  }, []);

  useEffect(() => {
    if (pending && dialog.current && !dialog.current.open) dialog.current.showModal();
  }, [pending]);

  const confirm = useAction(async () => {
    await api(
      'POST',
      '/api/sessions/step-up',
      mode === 'password' ? { password: value } : { code: value.trim() },
    );
    finish(true);
  });

  const byPasskey = useAction(async () => {
    await stepUpWithPasskey();
    finish(true);
  });
  const passkeyOnly =
    pending !== null &&
    Array.isArray(pending.reason.extra.methods) &&
    pending.reason.extra.methods.includes('passkey');

  const finish = (ok: boolean) => {
    dialog.current?.close();
    pending?.resolve(ok);
    setPending(null);
    confirm.setError(null);
    byPasskey.setError(null);
  };

  return (
    <dialog ref={dialog} aria-labelledby="step-up-title" onCancel={() => finish(false)}>
      {pending && (
        <ActionForm onSubmit={confirm.run}>
          <h2 id="step-up-title">Confirm it’s you</h2>
          <p>This action needs a fresh confirmation. It stays valid for 10 minutes in this session.</p>
          {passkeyOnly ? (
            <p>This organization accepts only a passkey.</p>
          ) : mode === 'password' ? (
            <Field
              label="Password"
              name="password"
              type="password"
              autoComplete="current-password"
              value={value}
              onInput={setValue}
              error={confirm.error}
              required
            />
          ) : (
            <Field
              label="Code"
              name="code"
              inputMode="numeric"
              autoComplete="one-time-code"
              hint="From your authenticator app, or a backup code"
              value={value}
              onInput={setValue}
              error={confirm.error}
              required
            />
          )}
          <ErrorText error={confirm.error ?? byPasskey.error} />
          <div class="actions">
            {!passkeyOnly && <Submit busy={confirm.busy}>Confirm</Submit>}
            <Button busy={byPasskey.busy} onClick={() => void byPasskey.run()}>
              Use a passkey
            </Button>
            {!passkeyOnly && (
              <button
                type="button"
                class="btn plain"
                onClick={() => {
                  setValue('');
                  setMode(mode === 'password' ? 'code' : 'password');
                }}
              >
                {mode === 'password' ? 'Use a code instead' : 'Use my password instead'}
              </button>
            )}
            <button type="button" class="btn plain" onClick={() => finish(false)}>
              Cancel
            </button>
          </div>
        </ActionForm>
      )}
    </dialog>
  );
}
