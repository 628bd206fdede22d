import { useEffect, useState } from 'preact/hooks';
import { api } from '../api/client.js';
import type { ListedSession, SecurityEvent } from '../api/types.js';
import { Button, deviceLabel, Empty, ErrorText, Loading, useAction, when } from '../components/ui.js';
import { useSession } from '../session.js';

/** What each event type is called on the page. */
export const eventWords: Record<string, string> = {
  new_device: 'Sign-in from a new device',
  country_changed: 'Sign-in from another country',
  impossible_travel: 'Sign-in from an unusual place (too far from the last one to travel in time)',
  login_denied: 'A sign-in you said was not you',
  mfa_enabled: 'Two-factor authentication turned on',
  mfa_disabled: 'Two-factor authentication turned off',
  password_changed: 'Password changed',
  password_reset: 'Password reset',
  session_revoked: 'A session was signed out',
};

/** Sign-ins the user may disown: the session they started can be revoked from the event. */
const SIGN_IN_TYPES = new Set(['new_device', 'country_changed', 'impossible_travel']);

let regions: Intl.DisplayNames | null = null;
/** "Berlin, Germany" from the city and the ISO country code; null when the address was not located. */
export function place(country: string | null, city: string | null): string | null {
  if (!country) return city;
  let name = country;
  try {
    regions ??= new Intl.DisplayNames(['en'], { type: 'region' });
    name = regions.of(country) ?? country;
  } catch {
    // An unknown code shows as it is.
  }
  return city ? `${city}, ${name}` : name;
}

/** The DB-IP Lite licence (CC BY 4.0) asks for this link wherever a location it gave is shown. */
export function DbIpAttribution() {
  return (
    <p class="muted attribution">
      <small>
        Locations: <a href="https://db-ip.com">IP Geolocation by DB-IP</a>
      </small>
    </p>
  );
}

/**
 * The account's security events, newest first, kept current by the events stream: a sign-in
 * elsewhere shows here at once, with "Not me? Revoke that session" for sign-ins.
 */
export function SecurityEvents() {
  const { session, user } = useSession();
  const [events, setEvents] = useState<SecurityEvent[] | null>(null);
  const [loadError, setLoadError] = useState<Error | null>(null);
  const [disowned, setDisowned] = useState<string | null>(null);
  const [resetSent, setResetSent] = useState(false);

  useEffect(() => {
    let closed = false;
    const load = async () => {
      try {
        const r = await api<{ events: SecurityEvent[] }>('GET', '/api/accounts/security-events?limit=50');
        if (!closed) {
          setEvents(r.events);
          setLoadError(null);
        }
      } catch (error) {
        if (!closed) setLoadError(error as Error);
      }
    };
    // The stream starts at the chain's head: events from before it (the first load, or a gap while
    // it reconnected) come from the list, read again on each `ready`.
    const source = new EventSource('/api/accounts/security-events/stream');
    source.addEventListener('ready', () => void load());
    source.addEventListener('security-event', (message) => {
      const event = JSON.parse((message as MessageEvent<string>).data) as SecurityEvent;
      setEvents((list) => (list?.some((e) => e.id === event.id) ? list : [event, ...(list ?? [])]));
    });
    // A revoked or swapped session ends the stream; the session provider decides what that means.
    source.addEventListener('ended', () => source.close());
    return () => {
      closed = true;
      source.close();
    };
  }, [session?.id]);

  const acknowledge = useAction(async (id: string) => {
    await api('POST', `/api/accounts/security-events/${id}/acknowledge`);
    setEvents((list) => list?.map((e) => (e.id === id ? { ...e, acknowledged: true } : e)) ?? null);
  });
  const notMe = useAction(async (event: SecurityEvent) => {
    if (!event.sessionId) return;
    await api('DELETE', `/api/sessions/${event.sessionId}`);
    // A step-up since then replaced that session with a new id that keeps the sign-in's start
    // time (to the millisecond, the event's own time): end those replacements too.
    const { sessions } = await api<{ sessions: ListedSession[] }>('GET', '/api/sessions');
    for (const s of sessions) {
      if (!s.current && s.createdAt === event.createdAt) await api('DELETE', `/api/sessions/${s.id}`);
    }
    await api('POST', `/api/accounts/security-events/${event.id}/acknowledge`);
    setEvents((list) => list?.map((e) => (e.id === event.id ? { ...e, acknowledged: true } : e)) ?? null);
    setResetSent(false);
    setDisowned(event.sessionId);
  });
  const reset = useAction(async () => {
    if (!user) return;
    await api('POST', '/api/accounts/password-reset/request', { email: user.email }, { anonymous: true });
    setResetSent(true);
  });

  return (
    <section aria-labelledby="events-title" class="card">
      <h2 id="events-title">Security events</h2>
      <p class="muted">New sign-ins and changes to your account’s security appear here as they happen.</p>
      {disowned && (
        <div class="notice" role="status">
          <p>
            That session is signed out. Whoever used it knew your password: reset it now (every session then
            signs out), or change it below.
          </p>
          {resetSent ? (
            <p>We sent a password-reset link to {user?.email}.</p>
          ) : (
            <Button variant="primary" busy={reset.busy} onClick={() => void reset.run()}>
              Mail me a password-reset link
            </Button>
          )}
        </div>
      )}
      <ErrorText error={loadError ?? acknowledge.error ?? notMe.error ?? reset.error} />
      {!events ? (
        !loadError && <Loading what="security events" />
      ) : events.length === 0 ? (
        <Empty>No security events yet.</Empty>
      ) : (
        <ul class="rows events" aria-label="Security events">
          {events.map((e) => {
            const where = place(e.country, e.city);
            const words = eventWords[e.type] ?? e.type;
            const canDisown =
              SIGN_IN_TYPES.has(e.type) && e.sessionId !== null && e.sessionId !== session?.id;
            return (
              <li key={e.id} class={e.acknowledged ? undefined : 'unseen'} data-event-type={e.type}>
                <span>
                  <strong>{words}</strong> {!e.acknowledged && <span class="badge">New</span>}
                  <br />
                  <small class="muted">
                    {when(e.createdAt)} · {e.ip ?? 'unknown address'}
                    {where && ` · ${where}`}
                    {e.userAgent && ` · ${deviceLabel(e.userAgent)}`}
                  </small>
                </span>
                <span class="actions">
                  {canDisown && (
                    <Button
                      variant="danger"
                      busy={notMe.busy}
                      aria-label={`Not me? Revoke that session (${words}${where ? `, ${where}` : ''})`}
                      onClick={() => void notMe.run(e)}
                    >
                      Not me? Revoke that session
                    </Button>
                  )}
                  {!e.acknowledged && (
                    <Button
                      busy={acknowledge.busy}
                      aria-label={`Acknowledge: ${words}${where ? `, ${where}` : ''}`}
                      onClick={() => void acknowledge.run(e.id)}
                    >
                      Acknowledge
                    </Button>
                  )}
                </span>
              </li>
            );
          })}
        </ul>
      )}
      {events?.some((e) => e.country) && <DbIpAttribution />}
    </section>
  );
}
