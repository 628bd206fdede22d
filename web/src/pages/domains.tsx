import { useState } from 'preact/hooks';
import type { z } from 'zod';
import type { domainJson } from '../../../functions/login/routes/domains.js';
import { ApiError, api } from '../api/client.js';
import type { Org } from '../api/types.js';
import {
  ActionForm,
  Button,
  CopyButton,
  Empty,
  ErrorText,
  Field,
  Loading,
  Notice,
  Submit,
  Table,
  useAction,
  useLoad,
  when,
} from '../components/ui.js';

type Domain = z.infer<typeof domainJson>;

/**
 * Verified domains (owners): claim a domain, publish its TXT record, verify it. A verified domain
 * lets the org's IdP sign in existing accounts there, and is what "Require single sign-on" covers.
 */
export function DomainsPage({ org }: { org: Org }) {
  const owner = org.role === 'owner';
  const list = useLoad(
    async () =>
      owner ? (await api<{ domains: Domain[] }>('GET', `/api/orgs/${org.id}/domains`)).domains : [],
    [org.id, owner],
  );
  const [domain, setDomain] = useState('');
  const [added, setAdded] = useState('');
  const add = useAction(async () => {
    setAdded('');
    const created = await api<Domain>('POST', `/api/orgs/${org.id}/domains`, { domain });
    setDomain('');
    setAdded(`${created.domain} added. Publish its TXT record, then choose Verify.`);
    list.reload();
  });

  if (!owner) {
    return (
      <section class="card" aria-labelledby="domains-title">
        <h2 id="domains-title">Verified domains</h2>
        <Notice>
          Only owners of {org.name} can see and verify its domains. Your role here is {org.role}; ask an
          owner.
        </Notice>
      </section>
    );
  }
  return (
    <>
      <section class="card" aria-labelledby="domain-add">
        <h2 id="domain-add">Add a domain</h2>
        <p class="muted">
          Prove the organization controls an email domain by publishing a DNS TXT record. Accounts at a
          verified domain can then be signed in by your identity provider, and{' '}
          <a href={`/orgs/${org.slug}/sso`}>single sign-on can be required</a> for them.
        </p>
        <ActionForm onSubmit={add.run}>
          <Field
            label="Domain"
            name="domain"
            hint="e.g. corp.example"
            value={domain}
            onInput={setDomain}
            error={add.error}
            required
          />
          {added && <Notice>{added}</Notice>}
          <ErrorText error={add.error} />
          <Submit busy={add.busy}>Add domain</Submit>
        </ActionForm>
      </section>
      <section class="card" aria-labelledby="domain-list">
        <h2 id="domain-list">Domains</h2>
        <ErrorText error={list.error} />
        {!list.data ? (
          !list.error && <Loading what="domains" />
        ) : list.data.length === 0 ? (
          <Empty>No domains yet.</Empty>
        ) : (
          <Table head={['Domain', 'Status', 'TXT record to publish', null]} caption="Domains">
            {list.data.map((d) => (
              <DomainRow key={d.domain} org={org} domain={d} onChange={list.reload} />
            ))}
          </Table>
        )}
      </section>
    </>
  );
}

function DomainRow({ org, domain, onChange }: { org: Org; domain: Domain; onChange: () => void }) {
  const path = `/api/orgs/${org.id}/domains/${encodeURIComponent(domain.domain)}`;
  const verify = useAction(async () => {
    await api<Domain>('POST', `${path}/verify`);
    onChange();
  });
  const [confirming, setConfirming] = useState(false);
  const remove = useAction(async () => {
    await api('DELETE', path);
    setConfirming(false);
    onChange();
  });
  const error = verify.error ?? remove.error;
  return (
    <tr data-testid={`domain-${domain.domain}`}>
      <td>{domain.domain}</td>
      <td>
        {domain.verified ? (
          <span class="badge ok">Verified {when(domain.verifiedAt)}</span>
        ) : (
          <span class="badge">Waiting for the TXT record</span>
        )}
      </td>
      <td>
        {domain.verified ? (
          <span class="muted">The record is not checked again; you may remove it.</span>
        ) : (
          <dl class="facts">
            <dt>Name</dt>
            <dd>
              <code data-testid="txt-name">{domain.txtName}</code>{' '}
              <CopyButton text={domain.txtName} label={`Copy the record name for ${domain.domain}`} />
            </dd>
            <dt>Value</dt>
            <dd>
              <code class="secret" data-testid="txt-value">
                {domain.txtRecord}
              </code>{' '}
              <CopyButton text={domain.txtRecord} label={`Copy the TXT value for ${domain.domain}`} />
            </dd>
          </dl>
        )}
        {error && <VerifyError error={error} />}
      </td>
      <td>
        <div class="actions">
          {!domain.verified && (
            <Button variant="primary" busy={verify.busy} onClick={() => void verify.run()}>
              Verify {domain.domain}
            </Button>
          )}
          {confirming ? (
            <>
              <p>
                {domain.verified
                  ? `Accounts at ${domain.domain} stop being this organization's to sign in or to hold to single sign-on, and another organization may verify it.`
                  : `The claim on ${domain.domain} and its TXT value are forgotten.`}
              </p>
              <Button variant="danger" busy={remove.busy} onClick={() => void remove.run()}>
                Yes, remove {domain.domain}
              </Button>
              <Button onClick={() => setConfirming(false)}>Keep {domain.domain}</Button>
            </>
          ) : (
            <Button variant="danger" onClick={() => setConfirming(true)}>
              Remove {domain.domain}
            </Button>
          )}
        </div>
      </td>
    </tr>
  );
}

/** A missing record is the usual case: say what we looked for rather than "some fields need attention". */
function VerifyError({ error }: { error: unknown }) {
  if (error instanceof ApiError && error.code === 'VALIDATION_FAILED' && error.message) {
    return (
      <p class="error" role="alert">
        Not verified yet. {error.message} DNS changes can take a few minutes to appear; try again later.
      </p>
    );
  }
  return <ErrorText error={error} />;
}
