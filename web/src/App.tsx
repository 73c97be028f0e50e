import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import { Link, Redirect, Route, Router, Switch, useLocation, useSearch } from 'wouter';
import { type ApiError, api, setCsrfToken, setUnauthorizedHandler } from './api';
import { ErrorMessage } from './components/ErrorMessage';
import { Layout } from './components/Layout';
import { Loading } from './components/Loading';
import { homeRoute, ROUTES } from './routes';
import { SessionContext, useSessionState } from './session';
import type { Session } from './types';

const Login = lazy(() => import('./pages/Login'));
const NotFound = lazy(() => import('./pages/NotFound'));

/** The pages, once it is known who is signed in. */
const Pages = () => {
  const { session } = useSessionState();
  const [location] = useLocation();
  const search = useSearch();

  if (location === '/login') {
    return (
      <Suspense fallback={<Loading />}>
        <Login />
      </Suspense>
    );
  }
  if (!session) {
    // Keep where the user wanted to go; the login page returns there.
    const wanted = location + (search ? `?${search}` : '');
    return <Redirect to={`/login?next=${encodeURIComponent(wanted)}`} replace />;
  }
  const allowed = ROUTES.filter((route) => route.roles.includes(session.role));
  const home = homeRoute(session.role);
  return (
    <Layout routes={allowed}>
      <Switch>
        <Route path="/">
          {home ? (
            <Redirect to={home.path + (search ? `?${search}` : '')} replace />
          ) : (
            <h1>Nothing to show for the {session.role} role yet</h1>
          )}
        </Route>
        {ROUTES.map(({ path, page: Page, roles }) => (
          <Route key={path} path={path}>
            {(params) =>
              roles.includes(session.role) ? (
                <Page params={params} />
              ) : (
                <>
                  <h1>Not available for your role</h1>
                  <p>
                    The {session.role} role cannot open this page. Ask an administrator of the workspace if
                    you need it.
                  </p>
                  <p>
                    <Link href="/">Go to the start page</Link>
                  </p>
                </>
              )
            }
          </Route>
        ))}
        <Route>
          <NotFound params={{}} />
        </Route>
      </Switch>
    </Layout>
  );
};

export const App = () => {
  const [state, setState] = useState<
    | { status: 'checking' }
    | { status: 'ready'; session: Session | null }
    | { status: 'failed'; error: ApiError }
  >({ status: 'checking' });
  const [round, setRound] = useState(0);

  const setSession = useCallback((session: Session | null) => {
    setCsrfToken(session?.csrfToken ?? null);
    setState({ status: 'ready', session });
  }, []);

  // A 401 from any request means the session has ended: the router then shows the login page.
  useEffect(() => setUnauthorizedHandler(() => setSession(null)), [setSession]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: round asks again after a failure.
  useEffect(() => {
    api<Session>('/auth/session', { expectUnauthorized: true }).then(setSession, (error: ApiError) => {
      if (error.status === 401) setSession(null);
      else setState({ status: 'failed', error });
    });
  }, [setSession, round]);

  if (state.status === 'checking') return <Loading label="Opening Touchpoint…" />;
  if (state.status === 'failed') {
    return (
      <main className="page-centered">
        <h1>Touchpoint</h1>
        <ErrorMessage error={state.error} onRetry={() => setRound((r) => r + 1)} />
      </main>
    );
  }
  return (
    <SessionContext.Provider value={{ session: state.session, setSession }}>
      <Router base="/app">
        <Pages />
      </Router>
    </SessionContext.Provider>
  );
};
