import { useState } from 'preact/hooks';
import type { z } from 'zod';
import type { issuedScimTokenView, scimTokenView } from '../../../functions/orgs/routes/scim-tokens.js';
import { api } from '../api/client.js';
import type { Org } from '../api/types.js';
import {
  ActionForm,
  Button,
  CopyButton,
  Empty,
  ErrorText,
  Field,
  Loading,
  ShownOnce,
  Submit,
  Table,
  useAction,
  useLoad,
  when,
} from '../components/ui.js';

type ScimToken = z.infer<typeof scimTokenView>;
type IssuedScimToken = z.infer<typeof issuedScimTokenView>;

/**
 * The org's SCIM tokens: what an identity provider (Okta, Entra ID) needs to provision members.
 * Owners create (token shown once) and revoke them, both behind step-up; admins see the list.
 */
export function ScimTokens({ org }: { org: Org }) {
  const tokens = useLoad(
    () => api<{ tokens: ScimToken[] }>('GET', `/api/orgs/${org.id}/scim-tokens`),
    [org.id],
  );
  const [name, setName] = useState('');
  const [issued, setIssued] = useState<IssuedScimToken | null>(null);
  const create = useAction(async () => {
    setIssued(await api<IssuedScimToken>('POST', `/api/orgs/${org.id}/scim-tokens`, { name }));
    setName('');
    tokens.reload();
  });
  const revoke = useAction(async (id: string) => {
    await api('DELETE', `/api/orgs/${org.id}/scim-tokens/${id}`);
    tokens.reload();
  });
  const baseUrl = `${window.location.origin}/api/scim/v2`;
  const owner = org.role === 'owner';
  return (
    <>
      <section class="card" aria-labelledby="scim-title">
        <h2 id="scim-title">SCIM provisioning</h2>
        <p>
          Your identity provider adds, suspends and removes members through SCIM 2.0. Its base URL:{' '}
          <code data-testid="scim-base-url">{baseUrl}</code> <CopyButton text={baseUrl} label="Copy URL" />
        </p>
        {owner && (
          <>
            <ActionForm class="inline" onSubmit={create.run}>
              <Field label="Name" name="name" value={name} onInput={setName} error={create.error} required />
              <Submit busy={create.busy}>Create SCIM token</Submit>
            </ActionForm>
            <ErrorText error={create.error} />
          </>
        )}
        {issued && (
          <ShownOnce
            what="this token"
            value={issued.token}
            testId="new-scim-token"
            copyLabel="Copy token"
            onSaved={() => setIssued(null)}
          />
        )}
      </section>
      <section class="card" aria-labelledby="scim-tokens-title">
        <h2 id="scim-tokens-title">SCIM tokens</h2>
        <ErrorText error={tokens.error ?? revoke.error} />
        {!tokens.data ? (
          !tokens.error && <Loading what="SCIM tokens" />
        ) : tokens.data.tokens.length === 0 ? (
          <Empty>No SCIM tokens yet.</Empty>
        ) : (
          <Table
            head={
              owner
                ? ['Name', 'Token', 'Created', 'Last used', null]
                : ['Name', 'Token', 'Created', 'Last used']
            }
          >
            {tokens.data.tokens.map((t) => (
              <tr key={t.id}>
                <td>{t.name}</td>
                <td>
                  <code>{t.prefix}…</code>
                </td>
                <td>{when(t.createdAt)}</td>
                <td>{when(t.lastUsedAt)}</td>
                {owner && (
                  <td>
                    <Button
                      variant="danger"
                      aria-label={`Revoke SCIM token ${t.name}`}
                      onClick={() => void revoke.run(t.id)}
                    >
                      Revoke
                    </Button>
                  </td>
                )}
              </tr>
            ))}
          </Table>
        )}
      </section>
    </>
  );
}
