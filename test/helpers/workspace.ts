import { randomUUID } from 'node:crypto';
import { createApiKey } from '../../src/auth/api-keys.js';
import type { Db } from '../../src/db/index.js';
import { createWorkspace, type Workspace } from '../../src/workspace/workspaces.js';

export interface TestWorkspace extends Workspace {
  keys: { admin: string; write: string; read: string };
}

/** A new workspace with one key of each role; every test gets its own, so tests never see each other's data. */
export const createTestWorkspace = async (db: Db): Promise<TestWorkspace> => {
  const workspace = await createWorkspace(db, `t-${randomUUID().slice(0, 18)}`);
  const [admin, write, read] = await Promise.all(
    (['admin', 'write', 'read'] as const).map(
      async (role) => (await createApiKey(db, workspace.id, role, `${role} test key`)).key,
    ),
  );
  return { ...workspace, keys: { admin: admin as string, write: write as string, read: read as string } };
};
