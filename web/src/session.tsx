import { createContext, useContext } from 'react';
import type { Session } from './types';

export interface SessionState {
  /** null: nobody is signed in. */
  session: Session | null;
  /** After login, logout or a lost session (401). */
  setSession: (session: Session | null) => void;
}

export const SessionContext = createContext<SessionState | null>(null);

export const useSessionState = (): SessionState => {
  const state = useContext(SessionContext);
  if (!state) throw new Error('useSessionState needs the SessionContext provider (App)');
  return state;
};

/** The signed-in session; pages inside the layout always have one. */
export const useSession = (): Session => {
  const { session } = useSessionState();
  if (!session) throw new Error('useSession is for pages of a signed-in user');
  return session;
};
