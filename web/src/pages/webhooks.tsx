import { useState } from 'preact/hooks';
import { api } from '../api/client.js';
import type { Org } from '../api/types.js';
import {
  ActionForm,
  Button,
  Empty,
  ErrorText,
  Field,
  Loading,
  Notice,
  ShownOnce,
  Submit,
  Table,
  useAction,
  useLoad,
  when,
} from '../components/ui.js';

/** What GET /api/orgs/:orgId/webhooks answers per endpoint (never a secret or a header value). */
interface Endpoint {
  id: string;
  url: string;
  description: string;
  events: string[];
  format: Format;
  enabled: boolean;
  disabledReason: string | null;
  headerNames: string[];
  previousSecretValidUntil: string | null;
  failingSince: string | null;
  createdAt: string;
}

interface Delivery {
  id: string;
  eventId: string;
  type: string;
  status: 'pending' | 'delivered' | 'failed';
  attempt: number;
  responseStatus: number | null;
  durationMs: number | null;
  error: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
  payloadPreview: string;
}

type Format = 'standard' | 'splunk-hec' | 'datadog' | 'sumo';

const formats: Array<[Format, string, string | null]> = [
  ['standard', 'Standard Webhooks', null],
  ['splunk-hec', 'Splunk HTTP Event Collector', 'Authorization'],
  ['datadog', 'Datadog logs', 'DD-API-KEY'],
  ['sumo', 'Sumo Logic HTTP source', null],
];

/** The org's webhook endpoints and SIEM exports: add one (its secret is shown once), and each one's delivery log. */
export function Webhooks({ org }: { org: Org }) {
  const list = useLoad(() => api<{ webhooks: Endpoint[] }>('GET', `/api/orgs/${org.id}/webhooks`), [org.id]);
  const [adding, setAdding] = useState(false);
  const [secret, setSecret] = useState<{ label: string; secret: string } | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const change = useAction(async (method: 'PATCH' | 'DELETE' | 'POST', path: string, body?: unknown) => {
    const answer = await api<{ secret?: string; url?: string }>(
      method,
      `/api/orgs/${org.id}/webhooks/${path}`,
      body,
    );
    if (answer?.secret) setSecret({ label: 'new signing secret', secret: answer.secret });
    list.reload();
  });
  return (
    <>
      {secret && (
        <ShownOnce
          class="once card"
          what={`the ${secret.label}`}
          value={secret.secret}
          testId="webhook-secret"
          copyLabel="Copy secret"
          onSaved={() => setSecret(null)}
        />
      )}
      <section class="card" aria-labelledby="webhooks-title">
        <h2 id="webhooks-title">Endpoints</h2>
        <p>
          Events of this organization's audit log, and the sign-ins and sessions that belong to it, are sent
          to each endpoint signed per Standard Webhooks, retried for about a day and a half when the receiver
          fails.
        </p>
        {!adding && (
          <Button variant="primary" onClick={() => setAdding(true)}>
            Add endpoint
          </Button>
        )}
        {adding && (
          <AddEndpoint
            org={org}
            onDone={(created) => {
              setAdding(false);
              if (created) {
                setSecret({ label: 'signing secret', secret: created });
                list.reload();
              }
            }}
          />
        )}
        <ErrorText error={list.error ?? change.error} />
        {!list.data ? (
          !list.error && <Loading what="endpoints" />
        ) : list.data.webhooks.length === 0 ? (
          <Empty>No endpoints yet.</Empty>
        ) : (
          <Table head={['Endpoint', 'Format', 'Events', 'State', null]}>
            {list.data.webhooks.map((w) => (
              <tr key={w.id}>
                <td>
                  <code>{w.url}</code>
                  {w.description && <div class="hint">{w.description}</div>}
                </td>
                <td>{formats.find(([f]) => f === w.format)?.[1] ?? w.format}</td>
                <td>{w.events.join(', ')}</td>
                <td>
                  {w.enabled ? 'On' : `Off (${offReason(w.disabledReason)})`}
                  {w.failingSince && <div class="hint">Failing since {when(w.failingSince)}</div>}
                  {w.previousSecretValidUntil && (
                    <div class="hint">Previous secret signs too until {when(w.previousSecretValidUntil)}</div>
                  )}
                </td>
                <td class="actions">
                  <Button onClick={() => setOpen(open === w.id ? null : w.id)} aria-expanded={open === w.id}>
                    {open === w.id ? 'Hide deliveries' : 'Deliveries'}
                  </Button>
                  <Button onClick={() => void change.run('POST', `${w.id}/test`)}>Send test event</Button>
                  <Button onClick={() => void change.run('PATCH', w.id, { enabled: !w.enabled })}>
                    {w.enabled ? 'Turn off' : 'Turn on'}
                  </Button>
                  <Button onClick={() => void change.run('POST', `${w.id}/rotate-secret`)}>
                    Rotate secret
                  </Button>
                  <Button
                    variant="danger"
                    aria-label={`Delete endpoint ${w.url}`}
                    onClick={() => void change.run('DELETE', w.id)}
                  >
                    Delete
                  </Button>
                </td>
              </tr>
            ))}
          </Table>
        )}
      </section>
      {open && <DeliveryLog org={org} endpointId={open} />}
    </>
  );
}

function offReason(reason: string | null): string {
  if (reason === 'failing') return 'failing for 5 days';
  if (reason === 'org_deleted') return 'organization deleted';
  if (reason === 'creator_removed') return 'its admin left';
  return 'turned off';
}

function AddEndpoint({ org, onDone }: { org: Org; onDone: (secret: string | null) => void }) {
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [format, setFormat] = useState<Format>('standard');
  const [events, setEvents] = useState('*');
  const [token, setToken] = useState('');
  const tokenHeader = formats.find(([f]) => f === format)?.[2] ?? null;
  const add = useAction(async () => {
    const token_ = token.trim();
    const created = await api<{ secret: string }>('POST', `/api/orgs/${org.id}/webhooks`, {
      url: url.trim(),
      description: description.trim() || undefined,
      format,
      events: events
        .split(/[\s,]+/)
        .map((e) => e.trim())
        .filter((e) => e.length > 0),
      ...(tokenHeader && token_
        ? { headers: { [tokenHeader]: format === 'splunk-hec' ? `Splunk ${token_}` : token_ } }
        : {}),
    });
    onDone(created.secret);
  });
  return (
    <ActionForm class="card" onSubmit={add.run}>
      <h3>Add endpoint</h3>
      <Field label="URL" name="url" value={url} onInput={setUrl} error={add.error} required />
      <div class="field">
        <label for="webhook-format">Format</label>
        <select
          id="webhook-format"
          name="format"
          value={format}
          onChange={(e) => setFormat((e.currentTarget as HTMLSelectElement).value as Format)}
        >
          {formats.map(([f, name]) => (
            <option key={f} value={f}>
              {name}
            </option>
          ))}
        </select>
      </div>
      <Field
        label="Events"
        name="events"
        hint="Event types separated by commas (member.invited, login.succeeded…), or * for all"
        value={events}
        onInput={setEvents}
        error={add.error}
        required
      />
      {tokenHeader && (
        <Field
          label={format === 'splunk-hec' ? 'HEC token' : 'API key'}
          name="token"
          hint={`Sent as ${tokenHeader}; stored sealed and never shown again`}
          value={token}
          onInput={setToken}
          error={add.error}
        />
      )}
      <Field
        label="Description"
        name="description"
        value={description}
        onInput={setDescription}
        error={add.error}
      />
      <ErrorText error={add.error} />
      <div class="actions">
        <Submit busy={add.busy}>Add endpoint</Submit>
        <Button onClick={() => onDone(null)}>Cancel</Button>
      </div>
    </ActionForm>
  );
}

function DeliveryLog({ org, endpointId }: { org: Org; endpointId: string }) {
  const [cursor, setCursor] = useState<string | null>(null);
  const page = useLoad(
    () =>
      api<{ deliveries: Delivery[]; nextCursor: string | null }>(
        'GET',
        `/api/orgs/${org.id}/webhooks/${endpointId}/deliveries${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`,
      ),
    [org.id, endpointId, cursor],
  );
  const [retried, setRetried] = useState(false);
  const retry = useAction(async (id: string) => {
    setRetried(false);
    await api('POST', `/api/orgs/${org.id}/webhooks/${endpointId}/deliveries/${id}/retry`);
    setRetried(true);
    page.reload();
  });
  return (
    <section class="card" aria-labelledby="deliveries-title">
      <h2 id="deliveries-title">Delivery log</h2>
      <div class="actions">
        <Button onClick={() => page.reload()}>Refresh</Button>
      </div>
      {retried && <Notice>Queued again, with the same webhook-id.</Notice>}
      <ErrorText error={page.error ?? retry.error} />
      {!page.data ? (
        !page.error && <Loading what="deliveries" />
      ) : page.data.deliveries.length === 0 ? (
        <Empty>Nothing sent to this endpoint yet.</Empty>
      ) : (
        <Table head={['Event', 'Status', 'Code', 'Duration', 'Attempts', 'Payload', null]}>
          {page.data.deliveries.map((d) => (
            <tr key={d.id}>
              <td>
                {d.type}
                <div class="hint">{when(d.createdAt)}</div>
              </td>
              <td>
                {d.status}
                {d.nextAttemptAt && <div class="hint">next try {when(d.nextAttemptAt)}</div>}
                {d.error && <div class="hint">{d.error}</div>}
              </td>
              <td>{d.responseStatus ?? '–'}</td>
              <td>{d.durationMs === null ? '–' : `${d.durationMs} ms`}</td>
              <td>{d.attempt}</td>
              <td>
                <details>
                  <summary>Preview</summary>
                  <pre class="payload">{d.payloadPreview}</pre>
                </details>
              </td>
              <td>
                <Button
                  aria-label={`Retry delivery ${d.id}`}
                  busy={retry.busy}
                  onClick={() => void retry.run(d.id)}
                >
                  Retry
                </Button>
              </td>
            </tr>
          ))}
        </Table>
      )}
      {page.data?.nextCursor && (
        <Button onClick={() => setCursor(page.data?.nextCursor ?? null)}>Older deliveries</Button>
      )}
    </section>
  );
}
