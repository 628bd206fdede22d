import { useState } from 'preact/hooks';
import { lazy, useLocation } from 'preact-iso';
import { ApiError, api } from '../api/client.js';
import {
  type Allowlist,
  type ApiKey,
  type AuditEvent,
  type Invitation,
  type IssuedKey,
  type ListedSession,
  type Member,
  type Org,
  type OrgSession,
  type Policy,
  type Recording,
  type Role,
  roleNames,
  type VerifyReport,
} from '../api/types.js';
import {
  ActionForm,
  Button,
  deviceLabel,
  Empty,
  ErrorText,
  Field,
  Loading,
  Notice,
  Page,
  ShownOnce,
  Submit,
  Table,
  useAction,
  useLoad,
  when,
} from '../components/ui.js';
import { useSession } from '../session.js';
import { ScimTokens } from './scim-tokens.js';

// Owners' enterprise pages load on demand: members and admins seldom open them.
const SsoPage = lazy(() => import('./sso.js').then((m) => m.SsoPage));
const DomainsPage = lazy(() => import('./domains.js').then((m) => m.DomainsPage));

import { Webhooks } from './webhooks.js';

const tabs = [
  ['members', 'Members'],
  ['keys', 'API keys'],
  ['allowlist', 'Allowlist'],
  ['policy', 'Policy'],
  ['sessions', 'Sessions'],
  ['audit', 'Audit log'],
  ['recordings', 'Recordings'],
  ['sso', 'Single sign-on'],
  ['domains', 'Domains'],
  ['scim', 'SCIM'],
  ['webhooks', 'Webhooks'],
] as const;

export function OrgPage({ slug, tab }: { slug: string; tab: string }) {
  const { orgs, user } = useSession();
  const org = orgs.find((o) => o.slug === slug);
  const label = tabs.find(([t]) => t === tab)?.[1];
  if (!user) return null;
  if (!org || !label) {
    return (
      <Page title="Not found">
        <p>There is no such page in your organizations.</p>
      </Page>
    );
  }
  return (
    <Page title={`${org.name}: ${label}`}>
      <nav class="tabs" aria-label="Organization">
        {tabs.map(([t, name]) => (
          <a key={t} href={`/orgs/${org.slug}/${t}`} aria-current={t === tab ? 'page' : undefined}>
            {name}
          </a>
        ))}
      </nav>
      {tab === 'members' && <Members org={org} />}
      {tab === 'keys' && <Keys org={org} />}
      {tab === 'allowlist' && <AllowlistEditor org={org} />}
      {tab === 'policy' && <PolicyEditor org={org} />}
      {tab === 'sessions' && <OrgSessions org={org} />}
      {tab === 'audit' && <Audit org={org} />}
      {tab === 'recordings' && <Recordings org={org} />}
      {tab === 'sso' && <SsoPage org={org} />}
      {tab === 'domains' && <DomainsPage org={org} />}
      {tab === 'scim' && <ScimTokens org={org} />}
      {tab === 'webhooks' && <Webhooks org={org} />}
    </Page>
  );
}

export function NewOrg() {
  const { refresh } = useSession();
  const { route } = useLocation();
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const create = useAction(async () => {
    const org = await api<{ slug: string }>('POST', '/api/orgs', { name, slug });
    await refresh();
    route(`/orgs/${org.slug}/members`);
  });
  return (
    <Page title="New organization">
      <ActionForm class="card" onSubmit={create.run}>
        <Field label="Name" name="name" value={name} onInput={setName} error={create.error} required />
        <Field
          label="Short name"
          name="slug"
          hint="Lowercase letters, digits and dashes; used in addresses and for SSO"
          value={slug}
          onInput={setSlug}
          error={create.error}
          required
        />
        <ErrorText error={create.error} />
        <Submit busy={create.busy}>Create organization</Submit>
      </ActionForm>
    </Page>
  );
}

function RoleSelect({
  value,
  onChange,
  label,
  id,
}: {
  value: Role;
  onChange: (r: Role) => void;
  label?: string;
  id?: string;
}) {
  return (
    <select
      id={id}
      aria-label={label}
      value={value}
      onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value as Role)}
    >
      {roleNames.map((r) => (
        <option key={r} value={r}>
          {r}
        </option>
      ))}
    </select>
  );
}

/** A labelled role picker for the invite and key forms. */
function RoleField({ id, value, onChange }: { id: string; value: Role; onChange: (r: Role) => void }) {
  return (
    <div class="field">
      <label for={id}>Role</label>
      <RoleSelect id={id} value={value} onChange={onChange} />
    </div>
  );
}

/** A date input's value as the end of that day in UTC, or undefined when empty. */
function endOfDay(date: string): string | undefined {
  return date ? new Date(`${date}T23:59:59Z`).toISOString() : undefined;
}

function Members({ org }: { org: Org }) {
  const members = useLoad(() => api<{ members: Member[] }>('GET', `/api/orgs/${org.id}/members`), [org.id]);
  const admin = org.role === 'admin' || org.role === 'owner';
  const invitations = useLoad(
    () =>
      admin
        ? api<{ invitations: Invitation[] }>('GET', `/api/orgs/${org.id}/invitations`).catch((e) => {
            // Older servers have no invitation list; the page works without it.
            if (e instanceof ApiError && (e.code === 'NOT_FOUND' || e.status === 405))
              return { invitations: [] };
            throw e;
          })
        : Promise.resolve({ invitations: [] as Invitation[] }),
    [org.id],
  );
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('member');
  const [expires, setExpires] = useState('');
  const [sent, setSent] = useState('');
  const invite = useAction(async () => {
    await api('POST', `/api/orgs/${org.id}/invitations`, { email, role, expiresAt: endOfDay(expires) });
    setSent(`Invitation sent to ${email}.`);
    setEmail('');
    invitations.reload();
  });
  const change = useAction(async (userId: string, body: { role?: Role; expiresAt?: string | null }) => {
    await api('PATCH', `/api/orgs/${org.id}/members/${userId}`, body);
    members.reload();
  });
  const remove = useAction(async (userId: string) => {
    await api('DELETE', `/api/orgs/${org.id}/members/${userId}`);
    members.reload();
  });
  const cancel = useAction(async (id: string) => {
    await api('DELETE', `/api/orgs/${org.id}/invitations/${id}`);
    invitations.reload();
  });
  return (
    <>
      <section class="card" aria-labelledby="members-title">
        <h2 id="members-title">Members</h2>
        <ErrorText error={members.error ?? change.error ?? remove.error} />
        {!members.data ? (
          !members.error && <Loading what="members" />
        ) : (
          <Table head={['Email', 'Role', 'Membership ends', null]}>
            {members.data.members.map((m) => (
              <tr key={m.userId}>
                <td>{m.email}</td>
                <td>
                  {admin ? (
                    <RoleSelect
                      label={`Role of ${m.email}`}
                      value={m.role}
                      onChange={(r) => void change.run(m.userId, { role: r })}
                    />
                  ) : (
                    m.role
                  )}
                </td>
                <td>{m.expiresAt ? when(m.expiresAt) : 'Never'}</td>
                <td>
                  {admin && (
                    <Button
                      variant="danger"
                      aria-label={`Remove ${m.email}`}
                      busy={remove.busy}
                      onClick={() => void remove.run(m.userId)}
                    >
                      Remove
                    </Button>
                  )}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </section>
      {admin && (
        <section class="card" aria-labelledby="invite-title">
          <h2 id="invite-title">Invite someone</h2>
          {sent && <Notice>{sent}</Notice>}
          <ActionForm class="inline" onSubmit={invite.run}>
            <Field
              label="Email"
              name="email"
              type="email"
              value={email}
              onInput={setEmail}
              error={invite.error}
              required
            />
            <RoleField id="invite-role" value={role} onChange={setRole} />
            <Field
              label="Membership ends (optional)"
              name="expiresAt"
              type="date"
              value={expires}
              onInput={setExpires}
              error={invite.error}
            />
            <Submit busy={invite.busy}>Invite</Submit>
          </ActionForm>
          <ErrorText error={invite.error} />
          <h3>Pending invitations</h3>
          <ErrorText error={invitations.error ?? cancel.error} />
          {invitations.data && invitations.data.invitations.length === 0 ? (
            <Empty>No pending invitations.</Empty>
          ) : (
            <ul class="rows">
              {invitations.data?.invitations.map((i) => (
                <li key={i.id}>
                  <span>
                    {i.email} as {i.role}
                  </span>
                  <Button
                    aria-label={`Cancel invitation for ${i.email}`}
                    onClick={() => void cancel.run(i.id)}
                  >
                    Cancel invitation
                  </Button>
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
      <LeaveOrg org={org} />
    </>
  );
}

/**
 * Any member may leave (POST /api/orgs/:id/leave); the API refuses the last owner with 409, and
 * that refusal is shown in words so they know to hand the org over first.
 */
function LeaveOrg({ org }: { org: Org }) {
  const { refresh } = useSession();
  const { route } = useLocation();
  const [asked, setAsked] = useState(false);
  const leave = useAction(async () => {
    await api('POST', `/api/orgs/${org.id}/leave`);
    await refresh();
    route('/settings/security?left=1');
  });
  const lastOwner = leave.error instanceof ApiError && leave.error.code === 'CONFLICT';
  return (
    <section class="card" aria-labelledby="leave-title">
      <h2 id="leave-title">Leave this organization</h2>
      <p>
        You lose access to {org.name} at once: your sessions started for it end, and the API keys and
        invitations you created there are revoked.
      </p>
      {lastOwner ? (
        <p class="error" role="alert">
          You are the last owner of {org.name}, so you cannot leave it. Make another member an owner first, or
          delete the organization.
        </p>
      ) : (
        <ErrorText error={leave.error} />
      )}
      {asked ? (
        <p class="actions">
          <Button variant="danger" busy={leave.busy} onClick={() => void leave.run()}>
            Yes, leave {org.name}
          </Button>
          <Button
            onClick={() => {
              setAsked(false);
              leave.setError(null);
            }}
          >
            Cancel
          </Button>
        </p>
      ) : (
        <Button variant="danger" onClick={() => setAsked(true)}>
          Leave organization
        </Button>
      )}
    </section>
  );
}

function Keys({ org }: { org: Org }) {
  const keys = useLoad(() => api<{ keys: ApiKey[] }>('GET', `/api/orgs/${org.id}/keys`), [org.id]);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('member');
  const [issued, setIssued] = useState<IssuedKey | null>(null);
  const create = useAction(async () => {
    setIssued(await api<IssuedKey>('POST', `/api/orgs/${org.id}/keys`, { name, role }));
    setName('');
    keys.reload();
  });
  const remove = useAction(async (id: string) => {
    await api('DELETE', `/api/orgs/${org.id}/keys/${id}`);
    keys.reload();
  });
  return (
    <>
      <section class="card" aria-labelledby="newkey-title">
        <h2 id="newkey-title">Create an API key</h2>
        <ActionForm class="inline" onSubmit={create.run}>
          <Field label="Name" name="name" value={name} onInput={setName} error={create.error} required />
          <RoleField id="key-role" value={role} onChange={setRole} />
          <Submit busy={create.busy}>Create API key</Submit>
        </ActionForm>
        <ErrorText error={create.error} />
        {issued && (
          <ShownOnce
            what="this key"
            value={issued.key}
            testId="new-key"
            copyLabel="Copy key"
            onSaved={() => setIssued(null)}
          />
        )}
      </section>
      <section class="card" aria-labelledby="keys-title">
        <h2 id="keys-title">Keys</h2>
        <ErrorText error={keys.error ?? remove.error} />
        {!keys.data ? (
          !keys.error && <Loading what="keys" />
        ) : keys.data.keys.length === 0 ? (
          <Empty>No API keys yet.</Empty>
        ) : (
          <Table head={['Name', 'Key', 'Role', 'Created', 'Last used', null]}>
            {keys.data.keys.map((k) => (
              <tr key={k.id}>
                <td>{k.name}</td>
                <td>
                  <code>{k.prefix}…</code>
                </td>
                <td>{k.role}</td>
                <td>{when(k.createdAt)}</td>
                <td>{when(k.lastUsedAt)}</td>
                <td>
                  <Button
                    variant="danger"
                    aria-label={`Delete key ${k.name}`}
                    onClick={() => void remove.run(k.id)}
                  >
                    Delete
                  </Button>
                </td>
              </tr>
            ))}
          </Table>
        )}
      </section>
    </>
  );
}

function AllowlistEditor({ org }: { org: Org }) {
  const [draft, setDraft] = useState<Allowlist | null>(null);
  const loaded = useLoad(async () => {
    const [list, mine] = await Promise.all([
      api<Allowlist>('GET', `/api/orgs/${org.id}/allowlist`),
      api<{ sessions: ListedSession[] }>('GET', '/api/sessions'),
    ]);
    setDraft(list);
    return { address: mine.sessions.find((s) => s.current)?.ip ?? null };
  }, [org.id]);
  const [saved, setSaved] = useState(false);
  const save = useAction(async () => {
    setSaved(false);
    if (!draft) return;
    await api('PUT', `/api/orgs/${org.id}/allowlist`, draft);
    setSaved(true);
  });
  const address = loaded.data?.address;
  const error = save.error instanceof ApiError ? save.error : null;
  const update = (index: number, patch: Partial<{ cidr: string; label: string }>) =>
    draft &&
    setDraft({ ...draft, entries: draft.entries.map((e, i) => (i === index ? { ...e, ...patch } : e)) });
  return (
    <section class="card" aria-labelledby="allow-title">
      <h2 id="allow-title">IP allowlist</h2>
      <p>
        Your address: <code data-testid="your-address">{address ?? 'unknown'}</code>
      </p>
      <ErrorText error={loaded.error} />
      {!draft ? (
        !loaded.error && <Loading what="the allowlist" />
      ) : (
        <ActionForm onSubmit={save.run}>
          <label class="check">
            <input
              type="checkbox"
              checked={draft.enabled}
              onChange={(e) => setDraft({ ...draft, enabled: (e.currentTarget as HTMLInputElement).checked })}
            />{' '}
            Enforce the allowlist (requests from other addresses are refused)
          </label>
          {draft.entries.length === 0 && <Empty>No entries.</Empty>}
          <ol class="entries">
            {draft.entries.map((entry, i) => {
              const issue = error?.fieldIssue(`entries.${i}`);
              return (
                <li key={i} class={issue ? 'bad' : undefined}>
                  <div class="field">
                    <label for={`cidr-${i}`}>Address or range {i + 1}</label>
                    <input
                      id={`cidr-${i}`}
                      value={entry.cidr}
                      aria-invalid={issue ? 'true' : undefined}
                      aria-describedby={issue ? `cidr-${i}-issue` : undefined}
                      onInput={(e) => update(i, { cidr: (e.currentTarget as HTMLInputElement).value })}
                    />
                    {issue && (
                      <small class="issue" id={`cidr-${i}-issue`}>
                        {issue}
                      </small>
                    )}
                  </div>
                  <div class="field">
                    <label for={`label-${i}`}>Label {i + 1}</label>
                    <input
                      id={`label-${i}`}
                      value={entry.label}
                      onInput={(e) => update(i, { label: (e.currentTarget as HTMLInputElement).value })}
                    />
                  </div>
                  <Button
                    aria-label={`Remove entry ${i + 1}`}
                    onClick={() => setDraft({ ...draft, entries: draft.entries.filter((_, j) => j !== i) })}
                  >
                    Remove
                  </Button>
                </li>
              );
            })}
          </ol>
          <div class="actions">
            <Button
              onClick={() => setDraft({ ...draft, entries: [...draft.entries, { cidr: '', label: '' }] })}
            >
              Add entry
            </Button>
            {address && !draft.entries.some((e) => e.cidr === address) && (
              <Button
                onClick={() =>
                  setDraft({ ...draft, entries: [...draft.entries, { cidr: address, label: 'My address' }] })
                }
              >
                Add my address
              </Button>
            )}
            <Submit busy={save.busy}>Save allowlist</Submit>
          </div>
          {saved && <Notice>Allowlist saved.</Notice>}
          {error?.code === 'CONFLICT' ? (
            <p class="error" role="alert">
              Not saved: your own address ({address ?? 'unknown'}) is not in the list, so enforcing it would
              lock you out. Add your address (or a range containing it) first.
            </p>
          ) : (
            <ErrorText error={save.error} />
          )}
        </ActionForm>
      )}
    </section>
  );
}

const limitFields = [
  ['maxConcurrentSessions', 'Most sessions per member', 'Empty: no limit'],
  ['idleTimeoutMinutes', 'Idle timeout (minutes)', 'Empty: the default'],
  ['absoluteTimeoutHours', 'Session lifetime (hours)', 'At most 336 (14 days); empty: the default'],
] as const;

function PolicyEditor({ org }: { org: Org }) {
  const admin = org.role === 'admin' || org.role === 'owner';
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [requireMfa, setRequireMfa] = useState(false);
  const [saved, setSaved] = useState('');
  const apply = (p: Policy) => {
    setDraft(Object.fromEntries(limitFields.map(([k]) => [k, p[k] === null ? '' : String(p[k])])));
    setRequireMfa(p.requireMfa);
    return p;
  };
  const loaded = useLoad(async () => apply(await api<Policy>('GET', `/api/orgs/${org.id}/policy`)), [org.id]);
  const save = useAction(async () => {
    setSaved('');
    const body = Object.fromEntries(limitFields.map(([k]) => [k, draft[k] ? Number(draft[k]) : null]));
    const p = apply(await api<Policy>('PATCH', `/api/orgs/${org.id}/policy`, { ...body, requireMfa }));
    setSaved(`Policy saved. Idle sessions now end after ${p.effectiveIdleTimeoutMinutes} minutes.`);
  });
  return (
    <section class="card" aria-labelledby="policy-title">
      <h2 id="policy-title">Session policy</h2>
      <ErrorText error={loaded.error} />
      {!loaded.data ? (
        !loaded.error && <Loading what="the policy" />
      ) : (
        <ActionForm onSubmit={save.run}>
          {limitFields.map(([key, label, hint]) => (
            <Field
              key={key}
              label={label}
              name={key}
              inputMode="numeric"
              hint={hint}
              value={draft[key] ?? ''}
              onInput={(v) => setDraft({ ...draft, [key]: v })}
              error={save.error}
            />
          ))}
          <label class="check">
            <input
              type="checkbox"
              checked={requireMfa}
              onChange={(e) => setRequireMfa((e.currentTarget as HTMLInputElement).checked)}
            />{' '}
            Require two-factor authentication for members
          </label>
          {saved && <Notice>{saved}</Notice>}
          <ErrorText error={save.error} />
          {admin ? (
            <Submit busy={save.busy}>Save policy</Submit>
          ) : (
            <p class="muted">Only admins can change it.</p>
          )}
        </ActionForm>
      )}
    </section>
  );
}

/** A device seen in this org's sessions: the filter offers every device the lists have shown. */
interface SeenDevice {
  id: string;
  userAgent: string | null;
  userId: string;
}

function OrgSessions({ org }: { org: Org }) {
  const members = useLoad(() => api<{ members: Member[] }>('GET', `/api/orgs/${org.id}/members`), [org.id]);
  const [userId, setUserId] = useState('');
  const [deviceId, setDeviceId] = useState('');
  const [country, setCountry] = useState('');
  const [countryDraft, setCountryDraft] = useState('');
  const [active, setActive] = useState('true');
  const [devices, setDevices] = useState<SeenDevice[]>([]);
  const emailOf = (id: string) => members.data?.members.find((m) => m.userId === id)?.email ?? id;
  const query = new URLSearchParams();
  if (userId) query.set('userId', userId);
  if (deviceId) query.set('deviceId', deviceId);
  if (country) query.set('country', country);
  if (active) query.set('active', active);
  const list = useLoad(async () => {
    const answer = await api<{ sessions: OrgSession[] }>(
      'GET',
      `/api/orgs/${org.id}/sessions?${query.toString()}`,
    );
    // The API has no device list for admins; the filter offers the devices its answers named.
    setDevices((known) => {
      const next = [...known];
      for (const s of answer.sessions) {
        if (s.deviceId && !next.some((d) => d.id === s.deviceId))
          next.push({ id: s.deviceId, userAgent: s.userAgent, userId: s.userId });
      }
      return next.length === known.length ? known : next;
    });
    return answer;
  }, [org.id, userId, deviceId, country, active]);
  const revoke = useAction(async (id: string) => {
    await api('DELETE', `/api/orgs/${org.id}/sessions/${id}`);
    list.reload();
  });
  const select = (set: (v: string) => void) => (e: Event) =>
    set((e.currentTarget as HTMLSelectElement).value);
  return (
    <section class="card" aria-labelledby="os-title">
      <h2 id="os-title">Sessions in this organization</h2>
      <div class="inline">
        <div class="field">
          <label for="f-user">Member</label>
          <select id="f-user" value={userId} onChange={select(setUserId)}>
            <option value="">Everyone</option>
            {members.data?.members.map((m) => (
              <option key={m.userId} value={m.userId}>
                {m.email}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-device">Device</label>
          <select id="f-device" value={deviceId} onChange={select(setDeviceId)}>
            <option value="">Any device</option>
            {devices.map((d) => (
              <option key={d.id} value={d.id}>
                {deviceLabel(d.userAgent)} ({emailOf(d.userId)})
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-active">State</label>
          <select id="f-active" value={active} onChange={select(setActive)}>
            <option value="true">Active</option>
            <option value="false">Ended</option>
            <option value="">All</option>
          </select>
        </div>
        <ActionForm class="inline" onSubmit={() => setCountry(countryDraft.trim())}>
          <Field
            label="Country"
            name="country"
            hint="Two letters, e.g. DE; empty for any"
            value={countryDraft}
            onInput={setCountryDraft}
            error={list.error}
          />
          <button type="submit" class="btn plain">
            Filter by country
          </button>
        </ActionForm>
      </div>
      <ErrorText error={list.error ?? revoke.error} />
      {!list.data ? (
        !list.error && <Loading what="sessions" />
      ) : list.data.sessions.length === 0 ? (
        <Empty>No sessions match.</Empty>
      ) : (
        <Table head={['Member', 'Device', 'IP address', 'Country', 'Last seen', null]}>
          {list.data.sessions.map((s) => (
            <tr key={s.id}>
              <td>{emailOf(s.userId)}</td>
              <td>{deviceLabel(s.userAgent)}</td>
              <td>{s.ip ?? '—'}</td>
              <td>{s.country ?? '—'}</td>
              <td>{when(s.lastSeenAt)}</td>
              <td>
                {s.active && (
                  <Button
                    variant="danger"
                    aria-label={`Revoke session of ${emailOf(s.userId)}`}
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
    </section>
  );
}

function Audit({ org }: { org: Org }) {
  const [action, setAction] = useState('');
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const query = new URLSearchParams({ limit: '25' });
  if (action) query.set('action', action);
  if (since) query.set('since', new Date(`${since}T00:00:00Z`).toISOString());
  if (until) query.set('until', new Date(`${until}T23:59:59Z`).toISOString());
  if (cursor) query.set('cursor', cursor);
  const page = useLoad(
    () =>
      api<{ events: AuditEvent[]; nextCursor: string | null }>(
        'GET',
        `/api/orgs/${org.id}/audit?${query.toString()}`,
      ),
    [org.id, query.toString()],
  );
  const [report, setReport] = useState<VerifyReport | null>(null);
  const verify = useAction(async () =>
    setReport(await api<VerifyReport>('GET', `/api/orgs/${org.id}/audit/verify`)),
  );
  const filter = (set: (v: string) => void) => (v: string) => {
    setCursors([]);
    set(v);
  };
  return (
    <>
      <section class="card" aria-labelledby="verify-title">
        <h2 id="verify-title">Integrity</h2>
        <p class="muted">Every event is hash-chained to the one before; signed checkpoints pin the chain.</p>
        <Button variant="primary" busy={verify.busy} onClick={() => void verify.run()}>
          Verify chain
        </Button>
        <ErrorText error={verify.error} />
        {report && (
          <div role="status" class={report.valid ? 'notice' : 'error'}>
            {report.valid ? (
              <p>Chain valid: {report.count} events checked.</p>
            ) : (
              <p>
                Chain broken at seq {report.brokenAtSeq}
                {report.reason ? ` (${report.reason})` : ''}.
              </p>
            )}
            <p class="muted">
              {report.checkpoint
                ? `Checkpoint: seq ${report.checkpoint.seq}, ${when(report.checkpoint.time)}, signature ${report.checkpoint.signatureValid ? 'valid' : 'NOT valid'}.`
                : 'No signed checkpoint yet.'}
            </p>
          </div>
        )}
      </section>
      <section class="card" aria-labelledby="audit-title">
        <h2 id="audit-title">Events</h2>
        <div class="inline">
          <Field
            label="Action"
            name="action"
            hint="e.g. member.invited"
            value={action}
            onInput={filter(setAction)}
            error={page.error}
          />
          <Field label="Since" name="since" type="date" value={since} onInput={filter(setSince)} />
          <Field label="Until" name="until" type="date" value={until} onInput={filter(setUntil)} />
        </div>
        <ErrorText error={page.error} />
        {!page.data ? (
          !page.error && <Loading what="events" />
        ) : page.data.events.length === 0 ? (
          <Empty>No events match.</Empty>
        ) : (
          <Table head={['Seq', 'Action', 'Actor', 'Target', 'IP address', 'Time']}>
            {page.data.events.map((e) => (
              <tr key={e.id}>
                <td>{e.seq}</td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td>
                  {e.actorType}
                  {e.actorId ? ` ${e.actorId.slice(0, 8)}` : ''}
                </td>
                <td>{e.targetType ? `${e.targetType} ${e.targetId?.slice(0, 8) ?? ''}` : '—'}</td>
                <td>{e.ip ?? '—'}</td>
                <td>{when(e.createdAt)}</td>
              </tr>
            ))}
          </Table>
        )}
        <div class="actions">
          <Button disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
            Newer
          </Button>
          <Button
            disabled={!page.data?.nextCursor}
            onClick={() => page.data?.nextCursor && setCursors([...cursors, page.data.nextCursor])}
          >
            Older
          </Button>
        </div>
      </section>
    </>
  );
}

function Recordings({ org }: { org: Org }) {
  const list = useLoad(
    () => api<{ recordings: Recording[] }>('GET', `/api/orgs/${org.id}/recordings`),
    [org.id],
  );
  return (
    <section class="card" aria-labelledby="rec-title">
      <h2 id="rec-title">Terminal recordings</h2>
      <ErrorText error={list.error} />
      {!list.data ? (
        !list.error && <Loading what="recordings" />
      ) : list.data.recordings.length === 0 ? (
        <Empty>No recordings yet. Record with asciinema and an API key of this organization.</Empty>
      ) : (
        <Table head={['Title', 'Status', 'Started', 'Size']}>
          {list.data.recordings.map((r) => (
            <tr key={r.id}>
              <td>
                {r.status === 'archived' ? (
                  <a href={`/orgs/${org.slug}/recordings/${r.id}`}>{r.title}</a>
                ) : (
                  r.title
                )}
              </td>
              <td>{r.status}</td>
              <td>{when(r.startedAt)}</td>
              <td>{r.bytes === null ? '—' : `${Math.ceil(r.bytes / 1024)} KB`}</td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}
