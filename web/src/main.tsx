import './styles.css';
import type { ComponentChildren } from 'preact';
import { render } from 'preact';
import { useEffect } from 'preact/hooks';
import { ErrorBoundary, LocationProvider, lazy, Route, Router, useLocation } from 'preact-iso';
import { api } from './api/client.js';
import { StepUpDialog } from './components/step-up.js';
import { Loading } from './components/ui.js';
import { AcceptInvitation, Login, ProviderReturn, ResetPassword, Signup, VerifyEmail } from './pages/auth.js';
import { Held } from './pages/held.js';
// The page most visits land on after signing in ships with the app, not as a later chunk.
import { Security } from './pages/security.js';
import { type FirstSession, firstSession, loginUrl, SessionProvider, useSession } from './session.js';

// Signed-in pages load on demand, so the sign-in page ships only what it needs.
const OrgPage = lazy(() => import('./pages/org.js').then((m) => m.OrgPage));
const Player = lazy(() => import('./pages/player.js').then((m) => m.Player));
const Mailbox = lazy(() => import('./pages/mailbox.js').then((m) => m.Mailbox));
const ConfirmLogin = lazy(() => import('./pages/confirm-login.js').then((m) => m.ConfirmLogin));
const NewOrg = lazy(() => import('./pages/org.js').then((m) => m.NewOrg));

// A deep link's page code downloads while the session check runs, not after it.
const first = location.pathname;
if (/^\/orgs\/[^/]+\/recordings\/[^/]+$/.test(first)) void Player.preload();
else if (first.startsWith('/orgs/')) void OrgPage.preload();

/** Pages that need a session: signed-out visitors go to /login and come back afterwards. */
function Private({ children }: { children: ComponentChildren }) {
  const { user, session } = useSession();
  const { route } = useLocation();
  useEffect(() => {
    if (user === null) route(loginUrl(), true);
  }, [user, route]);
  if (!user) return <Loading what="your session" />;
  // A held sign-in (impossible travel) sees only how to confirm it.
  if (session?.stepUpReason) return <Held session={session} />;
  return <>{children}</>;
}

const SecurityRoute = () => (
  <Private>
    <Security />
  </Private>
);
const NewOrgRoute = () => (
  <Private>
    <NewOrg />
  </Private>
);
const PlayerRoute = ({ slug, id }: { slug: string; id: string }) => (
  <Private>
    <Player slug={slug} id={id} />
  </Private>
);
const OrgRoute = ({ slug, tab }: { slug: string; tab: string }) => (
  <Private>
    <OrgPage slug={slug} tab={tab} />
  </Private>
);

function Header() {
  const { user, orgs } = useSession();
  const { path, route } = useLocation();
  const slug = /^\/orgs\/([^/]+)/.exec(path)?.[1];
  return (
    <header class="top">
      <a class="brand" href={user ? '/settings/security' : '/login'}>
        SessionForge
      </a>
      {user && (
        <nav aria-label="Main">
          <a href="/settings/security" aria-current={path.startsWith('/settings') ? 'page' : undefined}>
            Security
          </a>
          <label class="switcher">
            <span>Organization</span>
            <select
              value={slug ?? ''}
              onChange={(e) => {
                const value = (e.currentTarget as HTMLSelectElement).value;
                route(value === '+' ? '/orgs/new' : value ? `/orgs/${value}/members` : '/settings/security');
              }}
            >
              <option value="">Choose…</option>
              {orgs.map((o) => (
                <option key={o.id} value={o.slug}>
                  {o.name} ({o.role})
                </option>
              ))}
              <option value="+">New organization…</option>
            </select>
          </label>
          <SignOut />
        </nav>
      )}
    </header>
  );
}

function SignOut() {
  const { signedOut } = useSession();
  return (
    <button
      type="button"
      class="btn plain"
      onClick={async () => {
        await api('POST', '/api/login/logout').catch(() => undefined);
        signedOut('chosen');
      }}
    >
      Sign out
    </button>
  );
}

function Home() {
  const { user } = useSession();
  const { route } = useLocation();
  useEffect(() => {
    if (user !== undefined) route(user ? '/settings/security' : '/login', true);
  }, [user, route]);
  return <Loading what="the console" />;
}

function NotFound() {
  return (
    <section class="page">
      <h1>Page not found</h1>
      <p>
        <a href="/">Go to the console</a>
      </p>
    </section>
  );
}

export function App({ initial }: { initial?: FirstSession }) {
  return (
    <LocationProvider>
      <SessionProvider initial={initial}>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <Header />
        <main id="main">
          <ErrorBoundary>
            <Router>
              <Route path="/" component={Home} />
              <Route path="/login" component={Login} />
              <Route path="/login/provider" component={ProviderReturn} />
              <Route path="/signup" component={Signup} />
              <Route path="/verify-email" component={VerifyEmail} />
              <Route path="/reset-password" component={ResetPassword} />
              <Route path="/invitations/accept" component={AcceptInvitation} />
              <Route path="/dev/mailbox" component={Mailbox} />
              <Route path="/confirm-login" component={ConfirmLogin} />
              <Route path="/settings/security" component={SecurityRoute} />
              <Route path="/settings/sessions" component={SecurityRoute} />
              <Route path="/orgs/new" component={NewOrgRoute} />
              <Route path="/orgs/:slug/recordings/:id" component={PlayerRoute} />
              <Route path="/orgs/:slug/:tab" component={OrgRoute} />
              <Route default component={NotFound} />
            </Router>
          </ErrorBoundary>
        </main>
        <StepUpDialog />
      </SessionProvider>
    </LocationProvider>
  );
}

// Pages that need a session wait for the check (already in flight) and render once, signed in;
// the public ones render at once and learn who is signed in when the answer comes.
const publicPages = ['/login', '/signup', '/verify-email', '/reset-password', '/login/provider'];
const mount = (initial?: FirstSession) => render(<App initial={initial} />, document.getElementById('app')!);
if (publicPages.includes(location.pathname)) mount();
else void firstSession().then(mount);
