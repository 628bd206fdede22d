import { type ComponentChildren, createContext } from 'preact';
import { useCallback, useContext, useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { ApiError, api, type SessionEnd, sessionEnd, setSignedOutHandler } from './api/client.js';
import type { Org, SessionInfo, User } from './api/types.js';

export interface SessionState {
  /** undefined while loading; null when signed out. */
  user: User | null | undefined;
  session: SessionInfo | null;
  orgs: Org[];
  refresh(): Promise<void>;
  /**
   * Clears the state and goes to /login: 'revoked' or 'expired' says why, 'chosen' (the user
   * signed out) forgets the page.
   */
  signedOut(reason?: SessionEnd | 'chosen'): void;
}

const Ctx = createContext<SessionState>({
  user: undefined,
  session: null,
  orgs: [],
  refresh: async () => {},
  signedOut: () => {},
});

export const useSession = () => useContext(Ctx);

/** Where to come back to after signing in: only our own paths, never another site. */
export function safeNext(next: string | undefined): string {
  return next?.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\')
    ? next
    : '/settings/security';
}

const currentSession = () =>
  api<{ session: SessionInfo; user: User }>('GET', '/api/sessions/current', undefined, { anonymous: true });

/**
 * Asked as soon as the app loads (index.html preloads the URL, so the answer is usually here
 * before the script has compiled), and awaited before the first render, so a signed-in page
 * renders at once instead of a "Loading" state, an effect and a second render.
 */
let firstCheck: ReturnType<typeof currentSession> | null = currentSession();
firstCheck.catch(() => undefined);

/** What the first check found: who is signed in, null when nobody, undefined when it failed otherwise. */
export type FirstSession = { user: User; session: SessionInfo } | null | undefined;

export function firstSession(): Promise<FirstSession> {
  return (firstCheck ?? currentSession()).then(
    (current) => current,
    (error) => (error instanceof ApiError && error.status === 401 ? null : undefined),
  );
}

export function loginUrl(reason?: string): string {
  const here = `${location.pathname}${location.search}`;
  const params = new URLSearchParams();
  if (!['/login', '/'].includes(location.pathname)) params.set('next', here);
  if (reason) params.set('reason', reason);
  const query = params.toString();
  return query ? `/login?${query}` : '/login';
}

/**
 * Who is signed in (from the cookie, via /api/sessions/current) and their orgs; watches the
 * session's revocation stream so a sign-out anywhere lands every tab on /login at once.
 */
export function SessionProvider({
  initial,
  children,
}: {
  initial?: FirstSession;
  children: ComponentChildren;
}) {
  const { route } = useLocation();
  const [user, setUser] = useState<User | null | undefined>(initial === null ? null : initial?.user);
  const [session, setSession] = useState<SessionInfo | null>(initial?.session ?? null);
  const [orgs, setOrgs] = useState<Org[]>([]);

  const refresh = useCallback(async () => {
    try {
      const pending = firstCheck ?? currentSession();
      firstCheck = null;
      const current = await pending;
      setUser(current.user);
      setSession(current.session);
      // The page can render now; the org switcher fills in when its list arrives.
      const list = await api<{ orgs: Org[] }>('GET', '/api/orgs', undefined, { anonymous: true });
      setOrgs(list.orgs);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        setUser(null);
        setSession(null);
        setOrgs([]);
      } else setUser((u) => u ?? null);
    }
  }, []);

  const signedOut = useCallback(
    (reason?: SessionEnd | 'chosen') => {
      setUser(null);
      setSession(null);
      setOrgs([]);
      route(reason === 'chosen' ? '/login' : loginUrl(reason));
    },
    [route],
  );

  useEffect(() => {
    void refresh();
  }, [refresh]);

  useEffect(() => {
    setSignedOutHandler(signedOut);
    return () => setSignedOutHandler(null);
  }, [signedOut]);

  // The stream belongs to one session token; step-up and joining an org swap the token, which
  // ends the old stream. So an end is judged by asking who we are now, not taken as a sign-out.
  const sessionId = session?.id;
  useEffect(() => {
    if (!sessionId) return;
    let closed = false;
    let source: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const judge = async () => {
      source?.close();
      if (closed) return;
      try {
        const current = await currentSession();
        if (closed) return;
        if (current.session.id !== sessionId) setSession(current.session);
        else retry = setTimeout(open, 2000);
      } catch (error) {
        if (closed) return;
        if (error instanceof ApiError && error.status === 401) signedOut(sessionEnd(error) ?? 'revoked');
        else retry = setTimeout(open, 5000);
      }
    };
    const open = () => {
      source = new EventSource('/api/sessions/stream');
      source.addEventListener('revoked', () => void judge());
      source.addEventListener('expired', () => void judge());
      source.onerror = () => void judge();
    };
    open();
    return () => {
      closed = true;
      clearTimeout(retry);
      source?.close();
    };
  }, [sessionId, signedOut]);

  return <Ctx.Provider value={{ user, session, orgs, refresh, signedOut }}>{children}</Ctx.Provider>;
}
