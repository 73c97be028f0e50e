import { type FormEvent, useEffect, useState } from 'react';
import { useLocation, useSearch } from 'wouter';
import { ApiError, api } from '../api';
import { homeRoute, ROUTES } from '../routes';
import { useSessionState } from '../session';
import type { Role, Session } from '../types';

/** Only a path inside the app is followed after login (never another site). */
const safeNext = (next: string | null): string =>
  next?.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') ? next : '/';

/** The page that will open after login, fetched ahead so it shows at once. */
const preloadPage = (next: string, role: Role) => {
  const path = next.split('?')[0];
  const route = path === '/' ? homeRoute(role) : ROUTES.find((r) => r.path === path);
  return route?.page.preload?.().catch(() => undefined);
};

const messageOf = (error: unknown): string => {
  if (!(error instanceof ApiError)) return 'Signing in failed. Try again.';
  if (error.status === 401) return 'E-mail or password is wrong. Check both and try again.';
  if (error.status === 429) return 'Too many attempts. Wait a few minutes, then try again.';
  if (error.status === 0) return error.message;
  return `Signing in failed: ${error.message}`;
};

export default function Login() {
  const { session, setSession } = useSessionState();
  const [, navigate] = useLocation();
  const next = safeNext(new URLSearchParams(useSearch()).get('next'));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    document.title = 'Sign in · Touchpoint';
  }, []);
  // While the user types: most people sign in to the overview (or the page in next).
  useEffect(() => {
    preloadPage(next, 'analyst');
  }, [next]);
  // Signed in already (or just now): go where the user wanted to be.
  useEffect(() => {
    if (session) navigate(next, { replace: true });
  }, [session, next, navigate]);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const signedIn = await api<Session>('/auth/login', {
        method: 'POST',
        body: { email: String(form.get('email') ?? '').trim(), password: String(form.get('password') ?? '') },
        expectUnauthorized: true,
      });
      await preloadPage(next, signedIn.role);
      setSession(signedIn);
    } catch (failure) {
      setError(messageOf(failure));
      setBusy(false);
    }
  };

  return (
    <main className="page-centered">
      <h1>Sign in to Touchpoint</h1>
      <form className="login-form" onSubmit={submit}>
        <label>
          E-mail
          <input name="email" type="email" autoComplete="username" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
