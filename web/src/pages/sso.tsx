import { useId, useState } from 'preact/hooks';
import type { z } from 'zod';
import type { settingsView } from '../../../functions/login/routes/sso-settings.js';
import { samlSpUrls } from '../../../shared/sso/saml-urls.js';
import { ApiError, api } from '../api/client.js';
import type { Org, Policy } from '../api/types.js';
import {
  ActionForm,
  Button,
  CopyButton,
  ErrorText,
  Field,
  Loading,
  Notice,
  Submit,
  useAction,
  useLoad,
  when,
} from '../components/ui.js';

type Settings = z.infer<typeof settingsView>;
type SsoRole = Settings['defaultRole'];
const ssoRoles: readonly SsoRole[] = ['viewer', 'member', 'admin'];
/** The API's upload limit for IdP metadata (256 KiB). */
const MAX_METADATA_BYTES = 256 * 1024;

/**
 * Single sign-on for one org (owners): the identity provider (OIDC, or SAML from the IdP's
 * metadata), what to register at the IdP, and the enforcement policy for verified domains.
 * Other roles see the enforcement state read-only and a sentence saying only owners manage it (the
 * API refuses them regardless; an owner demoted meanwhile gets its refusal in words).
 */
export function SsoPage({ org }: { org: Org }) {
  const owner = org.role === 'owner';
  const settings = useLoad(async () => {
    if (!owner) return null;
    try {
      return await api<Settings>('GET', `/api/orgs/${org.id}/sso`);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'NOT_FOUND') return null;
      throw e;
    }
  }, [org.id, owner]);
  return (
    <>
      {!owner && (
        <Notice>
          Only owners of {org.name} can see and change single sign-on. Your role here is {org.role}; ask an
          owner to make changes.
        </Notice>
      )}
      {owner && (
        <section class="card" aria-labelledby="sso-current">
          <h2 id="sso-current">Current configuration</h2>
          <ErrorText error={settings.error} />
          {settings.data === undefined ? (
            !settings.error && <Loading what="the single sign-on settings" />
          ) : (
            <Current org={org} settings={settings.data} onRemoved={settings.reload} />
          )}
        </section>
      )}
      {owner && settings.data !== undefined && (
        <SsoForm org={org} current={settings.data} onSaved={settings.reload} />
      )}
      <Enforcement org={org} owner={owner} configured={!!settings.data} />
    </>
  );
}

function Copyable({ label, value, testId }: { label: string; value: string; testId: string }) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <div class="inline">
        <input id={id} class="copyable" readOnly value={value} data-testid={testId} />
        <CopyButton text={value} label={`Copy ${label}`} />
      </div>
    </div>
  );
}

/** What to register at the IdP: from the saved settings, else the addresses this console serves. */
function ServiceProvider({ org, settings }: { org: Org; settings: Settings | null }) {
  const sp = settings?.saml ?? samlSpUrls(location.origin, org.slug);
  return (
    <>
      <h3>Register these at your SAML identity provider</h3>
      <Copyable label="SP metadata URL" value={sp.metadataUrl} testId="sp-metadata-url" />
      <Copyable label="ACS URL" value={sp.acsUrl} testId="sp-acs-url" />
      <p class="muted">
        The entity ID (audience) is the SP metadata URL. Assertions must be signed with RSA-SHA256 or stronger
        and sent to the ACS URL with the HTTP-POST binding.
      </p>
    </>
  );
}

function Current({
  org,
  settings,
  onRemoved,
}: {
  org: Org;
  settings: Settings | null;
  onRemoved: () => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const remove = useAction(async () => {
    await api('DELETE', `/api/orgs/${org.id}/sso`);
    setConfirming(false);
    onRemoved();
  });
  if (!settings) {
    return <p class="muted">Single sign-on is not set up. Choose OIDC or SAML below.</p>;
  }
  const saml = settings.protocol === 'saml' ? settings.saml : null;
  return (
    <>
      <dl class="facts" data-testid="sso-current">
        <dt>Protocol</dt>
        <dd>{settings.protocol === 'saml' ? 'SAML 2.0' : 'OpenID Connect'}</dd>
        <dt>{saml ? 'IdP entity ID' : 'Issuer'}</dt>
        <dd>{settings.issuerUrl}</dd>
        {saml ? (
          <>
            <dt>IdP sign-in URL</dt>
            <dd>{saml.idpSsoUrl}</dd>
          </>
        ) : (
          <>
            <dt>Client ID</dt>
            <dd>{settings.clientId}</dd>
          </>
        )}
        <dt>Allowed email domains</dt>
        <dd>{settings.allowedDomains.join(', ')}</dd>
        <dt>Role of new members</dt>
        <dd>{settings.defaultRole}</dd>
        <dt>Password sign-in</dt>
        <dd>{settings.passwordLoginAllowed ? 'Also allowed' : 'Not allowed: single sign-on only'}</dd>
        <dt>Last changed</dt>
        <dd>{when(settings.updatedAt)}</dd>
      </dl>
      {saml ? (
        <ServiceProvider org={org} settings={settings} />
      ) : (
        <Copyable label="Redirect URI" value={settings.redirectUri} testId="oidc-redirect-uri" />
      )}
      <ErrorText error={remove.error} />
      {confirming ? (
        <div class="warning">
          <p>
            Turn off single sign-on? Sign-in through {settings.issuerUrl} stops at once; members keep their
            accounts.
          </p>
          <div class="actions">
            <Button variant="danger" busy={remove.busy} onClick={() => void remove.run()}>
              Yes, turn off single sign-on
            </Button>
            <Button onClick={() => setConfirming(false)}>Keep single sign-on</Button>
          </div>
        </div>
      ) : (
        <div class="actions">
          <Button variant="danger" onClick={() => setConfirming(true)}>
            Turn off single sign-on
          </Button>
        </div>
      )}
    </>
  );
}

function SsoForm({ org, current, onSaved }: { org: Org; current: Settings | null; onSaved: () => void }) {
  const [protocol, setProtocol] = useState<'oidc' | 'saml'>(current?.protocol ?? 'saml');
  const [issuerUrl, setIssuerUrl] = useState(current?.protocol === 'oidc' ? current.issuerUrl : '');
  const [clientId, setClientId] = useState(current?.protocol === 'oidc' ? current.clientId : '');
  const [clientSecret, setClientSecret] = useState('');
  const [metadata, setMetadata] = useState('');
  const [fileNote, setFileNote] = useState('');
  // A new key empties the file input once its contents are saved.
  const [fileKey, setFileKey] = useState(0);
  const [domains, setDomains] = useState(current?.allowedDomains.join(', ') ?? '');
  const [defaultRole, setDefaultRole] = useState<SsoRole>(current?.defaultRole ?? 'member');
  const [passwordLoginAllowed, setPasswordLoginAllowed] = useState(current?.passwordLoginAllowed ?? true);
  const [saved, setSaved] = useState('');
  const ids = { metadata: useId(), file: useId(), role: useId() };

  const save = useAction(async () => {
    setSaved('');
    const allowedDomains = domains
      .split(/[\s,]+/)
      .map((d) => d.trim())
      .filter(Boolean);
    const shared = { allowedDomains, defaultRole, passwordLoginAllowed };
    const body =
      protocol === 'saml'
        ? { protocol, idpMetadataXml: metadata, ...shared }
        : {
            protocol,
            issuerUrl,
            clientId,
            ...(clientSecret ? { clientSecret } : {}),
            ...shared,
          };
    const result = await api<Settings>('PUT', `/api/orgs/${org.id}/sso`, body);
    setClientSecret('');
    setMetadata('');
    setFileNote('');
    setFileKey((k) => k + 1);
    setSaved(
      result.protocol === 'saml'
        ? `SAML saved for ${result.saml?.idpEntityId ?? result.issuerUrl}.`
        : `OpenID Connect saved for ${result.issuerUrl}.`,
    );
    onSaved();
  });

  const readFile = async (input: HTMLInputElement) => {
    const file = input.files?.[0];
    if (!file) return;
    if (file.size > MAX_METADATA_BYTES) {
      setFileNote(`${file.name} is larger than 256 KiB; IdP metadata is much smaller. Choose another file.`);
      input.value = '';
      return;
    }
    setMetadata(await file.text());
    setFileNote(`Read ${file.name}. Check the text below, then save.`);
  };

  const metadataIssue = save.error instanceof ApiError ? save.error.fieldIssue('idpMetadataXml') : undefined;
  return (
    <section class="card" aria-labelledby="sso-form">
      <h2 id="sso-form">{current ? 'Change the identity provider' : 'Set up single sign-on'}</h2>
      <ActionForm onSubmit={save.run}>
        <fieldset class="choice">
          <legend>Protocol</legend>
          <label class="check">
            <input
              type="radio"
              name="protocol"
              value="saml"
              checked={protocol === 'saml'}
              onChange={() => setProtocol('saml')}
            />{' '}
            SAML 2.0
          </label>
          <label class="check">
            <input
              type="radio"
              name="protocol"
              value="oidc"
              checked={protocol === 'oidc'}
              onChange={() => setProtocol('oidc')}
            />{' '}
            OpenID Connect
          </label>
        </fieldset>
        {protocol === 'oidc' ? (
          <>
            <Field
              label="Issuer URL"
              name="issuerUrl"
              hint="Your provider's issuer, e.g. https://login.example.com; it must answer OpenID discovery"
              value={issuerUrl}
              onInput={setIssuerUrl}
              error={save.error}
              required
            />
            <Field
              label="Client ID"
              name="clientId"
              value={clientId}
              onInput={setClientId}
              error={save.error}
              required
            />
            <Field
              label="Client secret"
              name="clientSecret"
              type="password"
              autoComplete="off"
              hint={
                current?.protocol === 'oidc'
                  ? 'Leave empty to keep the stored secret; it is never shown again'
                  : 'Stored sealed and never shown again'
              }
              value={clientSecret}
              onInput={setClientSecret}
              error={save.error}
            />
          </>
        ) : (
          <>
            {!current?.saml && <ServiceProvider org={org} settings={null} />}
            <div class="field">
              <label for={ids.file}>Upload IdP metadata file</label>
              <input
                key={fileKey}
                id={ids.file}
                type="file"
                accept=".xml,application/xml,text/xml,application/samlmetadata+xml"
                onChange={(e) => void readFile(e.currentTarget as HTMLInputElement)}
              />
              {fileNote && (
                <small class="hint" role="status">
                  {fileNote}
                </small>
              )}
            </div>
            <div class="field">
              <label for={ids.metadata}>IdP metadata XML</label>
              <textarea
                id={ids.metadata}
                name="idpMetadataXml"
                rows={8}
                spellcheck={false}
                required
                value={metadata}
                aria-invalid={metadataIssue ? 'true' : undefined}
                aria-describedby={`${ids.metadata}-${metadataIssue ? 'issue' : 'hint'}`}
                onInput={(e) => setMetadata((e.currentTarget as HTMLTextAreaElement).value)}
              />
              {metadataIssue ? (
                <small id={`${ids.metadata}-issue`} class="issue">
                  IdP metadata: {metadataIssue}
                </small>
              ) : (
                <small id={`${ids.metadata}-hint`} class="hint">
                  Paste the EntityDescriptor your IdP offers for download, or upload the file above. We read
                  the entity ID, the HTTP-Redirect sign-in URL and the signing certificates; nothing is
                  fetched.
                  {current?.protocol === 'saml' &&
                    ' Any change here needs the metadata again: only what we read from it is kept.'}
                </small>
              )}
            </div>
          </>
        )}
        <Field
          label="Allowed email domains"
          name="allowedDomains"
          hint="Comma-separated, e.g. corp.example, corp.example.org"
          value={domains}
          onInput={setDomains}
          error={save.error}
          required
        />
        <div class="field">
          <label for={ids.role}>Role of new members</label>
          <select
            id={ids.role}
            value={defaultRole}
            onChange={(e) => setDefaultRole((e.currentTarget as HTMLSelectElement).value as SsoRole)}
          >
            {ssoRoles.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
        <label class="check">
          <input
            type="checkbox"
            checked={passwordLoginAllowed}
            onChange={(e) => setPasswordLoginAllowed((e.currentTarget as HTMLInputElement).checked)}
          />{' '}
          Members may also use this organization with a password sign-in
        </label>
        {saved && <Notice>{saved}</Notice>}
        <ErrorText error={save.error} />
        <Submit busy={save.busy}>Save single sign-on settings</Submit>
      </ActionForm>
    </section>
  );
}

/** enforceSso and allowBreakGlass: owners change them (step-up); everyone else reads them. */
function Enforcement({ org, owner, configured }: { org: Org; owner: boolean; configured: boolean }) {
  const [enforceSso, setEnforceSso] = useState(false);
  const [allowBreakGlass, setAllowBreakGlass] = useState(false);
  const [saved, setSaved] = useState('');
  const apply = (p: Policy) => {
    setEnforceSso(p.enforceSso);
    setAllowBreakGlass(p.allowBreakGlass);
    return p;
  };
  const policy = useLoad(async () => apply(await api<Policy>('GET', `/api/orgs/${org.id}/policy`)), [org.id]);
  const save = useAction(async () => {
    setSaved('');
    const p = apply(
      await api<Policy>('PATCH', `/api/orgs/${org.id}/policy`, { enforceSso, allowBreakGlass }),
    );
    setSaved(
      p.enforceSso
        ? `Single sign-on is now required for accounts at ${org.name}'s verified domains${p.allowBreakGlass ? '; owners keep a break-glass password sign-in' : ''}.`
        : 'Single sign-on is no longer required; password, Google and GitHub sign-in work again.',
    );
  });
  return (
    <section class="card" aria-labelledby="sso-enforce">
      <h2 id="sso-enforce">Require single sign-on</h2>
      <p class="warning" data-testid="enforce-warning">
        <strong>Warning:</strong> when required, everyone with an email address at one of this organization's{' '}
        <a href={`/orgs/${org.slug}/domains`}>verified domains</a> can sign in only through your identity
        provider: password, Google and GitHub sign-in are refused for them, in every organization. If the
        identity provider is down or misconfigured, nobody at those domains can sign in, unless owners keep
        the break-glass password sign-in (each use is audited).
      </p>
      <ErrorText error={policy.error} />
      {!policy.data ? (
        !policy.error && <Loading what="the policy" />
      ) : (
        <ActionForm onSubmit={save.run}>
          <label class="check">
            <input
              type="checkbox"
              checked={enforceSso}
              disabled={!owner}
              onChange={(e) => setEnforceSso((e.currentTarget as HTMLInputElement).checked)}
            />{' '}
            Require single sign-on for accounts at verified domains
          </label>
          <label class="check">
            <input
              type="checkbox"
              checked={allowBreakGlass}
              disabled={!owner}
              onChange={(e) => setAllowBreakGlass((e.currentTarget as HTMLInputElement).checked)}
            />{' '}
            Owners keep a break-glass password sign-in
          </label>
          {owner && !configured && enforceSso && (
            <p class="muted">Set up single sign-on above before requiring it.</p>
          )}
          {saved && <Notice>{saved}</Notice>}
          <ErrorText error={save.error} />
          {owner ? (
            <Submit busy={save.busy}>Save enforcement</Submit>
          ) : (
            <p class="muted">Read-only: only an owner changes enforcement.</p>
          )}
        </ActionForm>
      )}
    </section>
  );
}
