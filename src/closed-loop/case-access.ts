import type { Db } from '../db/index.js';
import type { UserRole } from '../domain/vocabulary.js';
import { AppError } from '../errors.js';
import { readClosedLoopSettings } from './settings.js';

/**
 * The cases a person may see or work: all of them, or those owned by one of `owners` or belonging
 * to one of `teams`.
 */
export type CaseScope = { all: true } | { all: false; owners: string[]; teams: string[] };

export const ALL_CASES: CaseScope = { all: true };

/** A person as far as cases go: their e-mail and role. */
export interface CaseWorker {
  email: string;
  role: UserRole;
}

/**
 * The teams a person belongs to (as member or lead) in the closed-loop settings, and everyone in
 * them: a manager works the cases of these teams and of their members.
 */
export const teamsOf = async (db: Db, workspaceId: number, email: string) => {
  const { teams } = await readClosedLoopSettings(db, workspaceId);
  const me = email.toLowerCase();
  const mine = Object.entries(teams).filter(
    ([, team]) => team.lead?.toLowerCase() === me || team.members.some((m) => m.toLowerCase() === me),
  );
  return {
    teams: mine.map(([name]) => name),
    people: [...new Set(mine.flatMap(([, team]) => [...team.members, ...(team.lead ? [team.lead] : [])]))],
  };
};

/**
 * Which cases a person may read or work. Admins: all. Analysts and managers read all; a manager
 * works their own teams' cases (and cases owned by their teams' people or themselves). Agents read
 * and work only the cases they own.
 */
export const caseScopeOf = async (
  db: Db,
  workspaceId: number,
  worker: CaseWorker,
  intent: 'read' | 'work',
): Promise<CaseScope> => {
  if (worker.role === 'admin') return ALL_CASES;
  if (worker.role === 'agent') return { all: false, owners: [worker.email], teams: [] };
  if (intent === 'read') return ALL_CASES;
  if (worker.role === 'analyst') return { all: false, owners: [], teams: [] };
  return teamScope(db, workspaceId, worker.email);
};

/** A person's teams' cases: those of their teams, and those owned by them or their teams' people. */
export const teamScope = async (db: Db, workspaceId: number, email: string): Promise<CaseScope> => {
  const { teams, people } = await teamsOf(db, workspaceId, email);
  return { all: false, owners: [...new Set([email, ...people])], teams };
};

/** Whether a case (its owner and team) lies within a scope. */
export const inScope = (scope: CaseScope, kase: { owner: string | null; team: string | null }): boolean => {
  if (scope.all) return true;
  const owner = kase.owner?.toLowerCase();
  return (
    (owner !== undefined && scope.owners.some((o) => o.toLowerCase() === owner)) ||
    (kase.team !== null && scope.teams.includes(kase.team))
  );
};

/**
 * Refuses work on a case outside the person's scope: 404 when they may not even see it (so an
 * agent learns nothing about other people's cases), 403 when they may see but not change it.
 */
export const assertCaseAccess = (readable: boolean, workable: boolean, caseId: number): void => {
  if (!readable) throw new AppError(404, 'not_found', `No case ${caseId}`);
  if (!workable) {
    throw new AppError(
      403,
      'forbidden',
      `Case ${caseId} belongs to another team; its owner or their manager works it`,
    );
  }
};
