import { type ReactNode, Suspense, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { Link, matchRoute, useLocation, useRouter, useSearch } from 'wouter';
import { api } from '../api';
import { withFilters } from '../filters';
import type { PageRoute } from '../routes';
import { useSession, useSessionState } from '../session';
import { ErrorBoundary } from './ErrorBoundary';
import { Loading } from './Loading';
import { PasswordDialog } from './PasswordDialog';

const NavLink = ({ route }: { route: PageRoute }) => {
  const search = useSearch();
  const [location] = useLocation();
  // A section's own pages (/cases/12, /settings/users) keep its link marked.
  const active = location === route.path || location.startsWith(`${route.path}/`);
  // The shared filters travel along, so the next page shows the same selection.
  return (
    <Link
      href={withFilters(route.path, search)}
      aria-current={active ? 'page' : undefined}
      // Fetch the page while the pointer or focus is on its link, so it opens at once.
      onPointerEnter={() => route.page.preload?.()}
      onFocus={() => route.page.preload?.()}
    >
      {route.title}
    </Link>
  );
};

/** Top bar, navigation of the pages the role may see, and the page itself in <main>. */
export const Layout = ({ routes, children }: { routes: readonly PageRoute[]; children: ReactNode }) => {
  const session = useSession();
  const { setSession } = useSessionState();
  const [location, navigate] = useLocation();
  const [passwordOpen, setPasswordOpen] = useState(false);
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  const { parser } = useRouter();
  const current = routes.find((route) => matchRoute(parser, route.path, location)[0]);
  // A layout effect runs before the page's own effects, so a page may set a more precise title.
  useLayoutEffect(() => {
    document.title = `${current?.title ?? 'Touchpoint'} · ${session.workspace.name}`;
  }, [current, session.workspace.name]);

  // A new page moves focus to its content, so keyboard and screen-reader users start there.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on every change of page.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
  }, [location]);

  const signOut = async () => {
    // The user leaves even when the server cannot be reached; the session then expires on its own.
    await api('/auth/logout', { method: 'POST', expectUnauthorized: true }).catch(() => undefined);
    setSession(null);
    navigate('/login');
  };

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">
          Touchpoint <span className="workspace">{session.workspace.name}</span>
        </span>
        <span className="user" title={`Role: ${session.role}`}>
          {session.user.email}
        </span>
        <button type="button" className="link-button" onClick={() => setPasswordOpen(true)}>
          Change password
        </button>
        <button type="button" className="link-button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <nav aria-label="Main">
        <ul>
          {routes
            .filter((route) => route.nav)
            .map((route) => (
              <li key={route.path}>
                <NavLink route={route} />
              </li>
            ))}
        </ul>
      </nav>
      <main id="main" ref={main} tabIndex={-1}>
        {/* A new page starts without the previous page's error. */}
        <ErrorBoundary key={location}>
          <Suspense fallback={<Loading label="Loading the page…" />}>{children}</Suspense>
        </ErrorBoundary>
      </main>
      {passwordOpen && <PasswordDialog onClose={() => setPasswordOpen(false)} />}
    </div>
  );
};
