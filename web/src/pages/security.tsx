import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api } from '../api/client.js';
import type { AuditEvent, BackupCodes, Device, ListedSession } from '../api/types.js';
import {
  ActionForm,
  Button,
  CopyButton,
  deviceLabel,
  Empty,
  ErrorText,
  Field,
  Loading,
  Notice,
  Page,
  Submit,
  Table,
  useAction,
  useLoad,
  when,
} from '../components/ui.js';
import { addPasskey, type Passkey } from '../passkeys.js';
import { useSession } from '../session.js';
import { DbIpAttribution, place, SecurityEvents } from './security-events.js';

export function Security() {
  const { query } = useLocation();
  return (
    <Page title="Security">
      {query.joined && <Notice>You joined the organization. It is in the Organization menu.</Notice>}
      {query.left && <Notice>You left the organization.</Notice>}
      <SecurityEvents />
      <Sessions />
      <Devices />
      <TwoFactor />
      <Passkeys />
      <PasswordChange />
      <Activity />
    </Page>
  );
}

function Sessions() {
  const { signedOut } = useSession();
  const list = useLoad(() => api<{ sessions: ListedSession[] }>('GET', '/api/sessions'));
  const [notice, setNotice] = useState('');
  const revoke = useAction(async (id: string) => {
    await api('DELETE', `/api/sessions/${id}`);
    list.reload();
  });
  const others = useAction(async () => {
    const r = await api<{ revoked: number }>('POST', '/api/sessions/revoke-others');
    setNotice(`Signed out ${r.revoked} other session${r.revoked === 1 ? '' : 's'}.`);
    list.reload();
  });
  const everywhere = useAction(async () => {
    await api('POST', '/api/sessions/revoke-all');
    signedOut('chosen');
  });
  return (
    <section aria-labelledby="sessions-title" class="card">
      <h2 id="sessions-title">Where you’re signed in</h2>
      {notice && <Notice>{notice}</Notice>}
      <ErrorText error={list.error ?? revoke.error ?? others.error ?? everywhere.error} />
      {!list.data ? (
        !list.error && <Loading what="sessions" />
      ) : (
        <Table caption="Your sessions" head={['Device', 'IP address', 'Location', 'Last seen', null]}>
          {list.data.sessions.map((s) => (
            <tr key={s.id} class={s.current ? 'current' : undefined}>
              <td>
                {deviceLabel(s.userAgent)} {s.current && <span class="badge">This session</span>}
              </td>
              <td>{s.ip ?? '—'}</td>
              <td>{place(s.country, s.city) ?? '—'}</td>
              <td>{when(s.lastSeenAt)}</td>
              <td>
                {!s.current && (
                  <Button
                    variant="danger"
                    busy={revoke.busy}
                    aria-label={`Revoke ${deviceLabel(s.userAgent)} session from ${s.ip ?? 'unknown address'}`}
                    onClick={() => void revoke.run(s.id)}
                  >
                    Revoke
                  </Button>
                )}
              </td>
            </tr>
          ))}
        </Table>
      )}
      {list.data?.sessions.some((s) => s.country) && <DbIpAttribution />}
      <div class="actions">
        <Button busy={others.busy} onClick={() => void others.run()}>
          Sign out other sessions
        </Button>
        <Button variant="danger" busy={everywhere.busy} onClick={() => void everywhere.run()}>
          Sign out everywhere
        </Button>
      </div>
    </section>
  );
}

function Devices() {
  const list = useLoad(() => api<{ devices: Device[] }>('GET', '/api/sessions/devices'));
  const trust = useAction(async (id: string) => {
    await api('POST', `/api/sessions/devices/${id}/trust`);
    list.reload();
  });
  const forget = useAction(async (id: string) => {
    await api('DELETE', `/api/sessions/devices/${id}`);
    list.reload();
  });
  return (
    <section aria-labelledby="devices-title" class="card">
      <h2 id="devices-title">Devices</h2>
      <p class="muted">
        Forgetting a device signs out its sessions; a trusted device skips new-device alerts.
      </p>
      <ErrorText error={list.error ?? trust.error ?? forget.error} />
      {!list.data ? (
        !list.error && <Loading what="devices" />
      ) : list.data.devices.length === 0 ? (
        <Empty>No devices yet.</Empty>
      ) : (
        <ul class="rows">
          {list.data.devices.map((d) => (
            <li key={d.id}>
              <span>
                <strong>{deviceLabel(d.userAgent)}</strong> {d.trusted && <span class="badge">Trusted</span>}
                <br />
                <small class="muted">
                  First seen {when(d.firstSeenAt)} · last seen {when(d.lastSeenAt)}
                  {place(d.country, d.city) && ` in ${place(d.country, d.city)}`}
                </small>
              </span>
              <span class="actions">
                {!d.trusted && (
                  <Button
                    busy={trust.busy}
                    aria-label={`Trust ${deviceLabel(d.userAgent)}`}
                    onClick={() => void trust.run(d.id)}
                  >
                    Trust
                  </Button>
                )}
                <Button
                  variant="danger"
                  busy={forget.busy}
                  aria-label={`Forget ${deviceLabel(d.userAgent)}`}
                  onClick={() => void forget.run(d.id)}
                >
                  Forget
                </Button>
              </span>
            </li>
          ))}
        </ul>
      )}
      {list.data?.devices.some((d) => d.country) && <DbIpAttribution />}
    </section>
  );
}

function Passkeys() {
  const list = useLoad(() => api<{ passkeys: Passkey[] }>('GET', '/api/passkeys'));
  const [name, setName] = useState('');
  const [renaming, setRenaming] = useState<{ id: string; name: string } | null>(null);
  const add = useAction(async () => {
    await addPasskey(name.trim() || undefined);
    setName('');
    list.reload();
  });
  const rename = useAction(async () => {
    if (!renaming) return;
    await api('PATCH', `/api/passkeys/${renaming.id}`, { name: renaming.name.trim() });
    setRenaming(null);
    list.reload();
  });
  const remove = useAction(async (id: string) => {
    await api('DELETE', `/api/passkeys/${id}`);
    list.reload();
  });
  return (
    <section aria-labelledby="passkeys-title" class="card">
      <h2 id="passkeys-title">Passkeys</h2>
      <p class="muted">Sign in and confirm it’s you with this device’s screen lock or a security key.</p>
      <ErrorText error={list.error ?? remove.error} />
      {!list.data ? (
        !list.error && <Loading what="passkeys" />
      ) : list.data.passkeys.length === 0 ? (
        <Empty>No passkeys yet.</Empty>
      ) : (
        <ul class="rows">
          {list.data.passkeys.map((p) => (
            <li key={p.id}>
              {renaming?.id === p.id ? (
                <ActionForm onSubmit={rename.run}>
                  <Field
                    label={`New name for ${p.name}`}
                    name="passkeyName"
                    value={renaming.name}
                    onInput={(v) => setRenaming({ id: p.id, name: v })}
                    error={rename.error}
                    required
                  />
                  <ErrorText error={rename.error} />
                  <Submit busy={rename.busy}>Save name</Submit>
                </ActionForm>
              ) : (
                <span>
                  <strong>{p.name}</strong> {p.backedUp && <span class="badge">Synced</span>}
                  <br />
                  <small class="muted">
                    Added {when(p.createdAt)} · last used {p.lastUsedAt ? when(p.lastUsedAt) : 'never'}
                  </small>
                </span>
              )}
              <span class="actions">
                <Button
                  aria-label={`Rename ${p.name}`}
                  onClick={() => setRenaming({ id: p.id, name: p.name })}
                >
                  Rename
                </Button>
                <Button
                  variant="danger"
                  busy={remove.busy}
                  aria-label={`Remove ${p.name}`}
                  onClick={() => void remove.run(p.id)}
                >
                  Remove
                </Button>
              </span>
            </li>
          ))}
        </ul>
      )}
      <ActionForm onSubmit={add.run}>
        <Field
          label="Passkey name"
          name="newPasskeyName"
          hint="Optional, e.g. Laptop"
          value={name}
          onInput={setName}
        />
        <ErrorText error={add.error} />
        <Submit busy={add.busy}>Add a passkey</Submit>
      </ActionForm>
    </section>
  );
}

/** Whether two-factor is on, read from the account's own newest enrol/disable events. */
async function mfaEnabled(): Promise<boolean> {
  const [on, off] = await Promise.all(
    ['mfa.enrolled', 'mfa.disabled'].map((action) =>
      api<{ events: AuditEvent[] }>('GET', `/api/accounts/activity?action=${action}&limit=1`),
    ),
  );
  const enrolled = on?.events[0]?.seq ?? -1;
  const disabled = off?.events[0]?.seq ?? -1;
  return enrolled > disabled;
}

function BackupCodeList({ codes }: { codes: string[] }) {
  const text = `${codes.join('\n')}\n`;
  const href = `data:text/plain;charset=utf-8,${encodeURIComponent(text)}`;
  return (
    <section class="backup" aria-labelledby="backup-title">
      <h3 id="backup-title">Your backup codes</h3>
      <p>
        Each code works once if you lose your authenticator. <strong>They are shown only now</strong>: copy or
        download them.
      </p>
      <ul class="codes">
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ul>
      <div class="actions">
        <CopyButton text={text} label="Copy codes" />
        <a class="btn plain" href={href} download="sessionforge-backup-codes.txt">
          Download codes
        </a>
      </div>
    </section>
  );
}

function TwoFactor() {
  const status = useLoad(mfaEnabled);
  const [enrolment, setEnrolment] = useState<{ secret: string; otpauthUrl: string; qr: string } | null>(null);
  const [code, setCode] = useState('');
  const [codes, setCodes] = useState<string[] | null>(null);
  const start = useAction(async () => {
    setCodes(null);
    // The QR encoder is needed only here, so it downloads with the enrolment, not with the page.
    const [enrolled, { renderSVG }] = await Promise.all([
      api<{ secret: string; otpauthUrl: string }>('POST', '/api/mfa/totp/enroll'),
      import('uqr'),
    ]);
    const svg = renderSVG(enrolled.otpauthUrl, { border: 2 });
    setEnrolment({ ...enrolled, qr: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}` });
  });
  const confirm = useAction(async () => {
    const r = await api<BackupCodes>('POST', '/api/mfa/totp/confirm', { code: code.trim() });
    setEnrolment(null);
    setCode('');
    setCodes(r.backupCodes);
    status.reload();
  });
  const regenerate = useAction(async () => {
    setCodes((await api<BackupCodes>('POST', '/api/mfa/backup-codes')).backupCodes);
  });
  const disable = useAction(async () => {
    await api('DELETE', '/api/mfa/totp');
    setCodes(null);
    status.reload();
  });
  const qr = enrolment?.qr ?? '';
  return (
    <section aria-labelledby="mfa-title" class="card">
      <h2 id="mfa-title">Two-factor authentication</h2>
      <ErrorText error={status.error ?? start.error ?? regenerate.error ?? disable.error} />
      {status.data === undefined && !status.error ? (
        <Loading what="two-factor status" />
      ) : status.data ? (
        <>
          <p>
            <span class="badge ok">On</span> Sign-ins ask for a code from your authenticator app.
          </p>
          <div class="actions">
            <Button busy={regenerate.busy} onClick={() => void regenerate.run()}>
              Regenerate backup codes
            </Button>
            <Button variant="danger" busy={disable.busy} onClick={() => void disable.run()}>
              Turn off two-factor
            </Button>
          </div>
        </>
      ) : enrolment ? (
        <ActionForm onSubmit={confirm.run}>
          <p>Scan this QR code with your authenticator app, or enter the key by hand.</p>
          <img
            class="qr"
            src={qr}
            width={200}
            height={200}
            alt="QR code to add SessionForge to your authenticator app"
          />
          <p>
            Key:{' '}
            <code class="secret" data-testid="totp-secret">
              {enrolment.secret}
            </code>
          </p>
          <Field
            label="Code"
            name="code"
            inputMode="numeric"
            autoComplete="one-time-code"
            hint="The 6-digit code your app shows now"
            value={code}
            onInput={setCode}
            error={confirm.error}
            required
          />
          <ErrorText error={confirm.error} />
          <Submit busy={confirm.busy}>Confirm</Submit>
        </ActionForm>
      ) : (
        <>
          <p>Add a second step to sign-in with an authenticator app.</p>
          <Button variant="primary" busy={start.busy} onClick={() => void start.run()}>
            Set up authenticator app
          </Button>
        </>
      )}
      {codes && <BackupCodeList codes={codes} />}
    </section>
  );
}

function PasswordChange() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [done, setDone] = useState('');
  const change = useAction(async () => {
    const r = await api<{ sessionsRevoked: number }>('POST', '/api/accounts/password', {
      currentPassword: current,
      newPassword: next,
    });
    setCurrent('');
    setNext('');
    setDone(
      `Password changed. ${r.sessionsRevoked} other session${r.sessionsRevoked === 1 ? ' was' : 's were'} signed out.`,
    );
  });
  return (
    <section aria-labelledby="password-title" class="card">
      <h2 id="password-title">Password</h2>
      {done && <Notice>{done}</Notice>}
      <ActionForm onSubmit={change.run}>
        <Field
          label="Current password"
          name="currentPassword"
          type="password"
          autoComplete="current-password"
          value={current}
          onInput={setCurrent}
          error={change.error}
          required
        />
        <Field
          label="New password"
          name="newPassword"
          type="password"
          autoComplete="new-password"
          hint="12 characters or more"
          value={next}
          onInput={setNext}
          error={change.error}
          required
        />
        <ErrorText error={change.error} />
        <Submit busy={change.busy}>Change password</Submit>
      </ActionForm>
    </section>
  );
}

function Activity() {
  const list = useLoad(() => api<{ events: AuditEvent[] }>('GET', '/api/accounts/activity?limit=20'));
  return (
    <section aria-labelledby="activity-title" class="card">
      <h2 id="activity-title">Account activity</h2>
      <ErrorText error={list.error} />
      {!list.data ? (
        !list.error && <Loading what="activity" />
      ) : list.data.events.length === 0 ? (
        <Empty>Nothing yet.</Empty>
      ) : (
        <ul class="rows">
          {list.data.events.map((e) => (
            <li key={e.id}>
              <span>
                <code>{e.action}</code> <small class="muted">from {e.ip ?? 'unknown address'}</small>
              </span>
              <small class="muted">{when(e.createdAt)}</small>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
