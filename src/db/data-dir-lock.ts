import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../errors.js';

/** What the holder of an embedded database writes into its lock file. */
export interface LockInfo {
  pid: number;
  command: string;
  url?: string;
  startedAt: string;
}

const LOCK_FILE = 'touchpoint.lock';

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

export const readLock = (dataDir: string): LockInfo | null => {
  try {
    return JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8')) as LockInfo;
  } catch {
    return null;
  }
};

/**
 * Takes the embedded database directory for this process. PGlite is single-process: a second
 * process opening the same files would corrupt them, so a second Touchpoint command is refused with
 * a message naming the holder. A lock left by a process that no longer runs (kill -9) is taken over.
 */
export const lockDataDir = (
  dataDir: string,
  command: string,
): { update(info: Partial<LockInfo>): void; release(): void } => {
  const path = join(dataDir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, command, startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, JSON.stringify(info));
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        const current = readLock(dataDir);
        if (current?.pid === process.pid) rmSync(path, { force: true });
      };
      process.once('exit', release);
      return {
        update(extra) {
          Object.assign(info, extra);
          const fd2 = openSync(path, 'w');
          writeSync(fd2, JSON.stringify(info));
          closeSync(fd2);
        },
        release,
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readLock(dataDir);
      if (holder && holder.pid !== process.pid && isAlive(holder.pid)) {
        const where = holder.url ? ` at ${holder.url}` : '';
        throw new AppError(
          409,
          'database_in_use',
          `The embedded database in ${dataDir} is in use by another Touchpoint process ` +
            `(pid ${holder.pid}, "touchpoint ${holder.command}"${where}). The embedded database serves one ` +
            'process at a time: stop that process first, or send the data through its HTTP API' +
            (holder.url ? ` (${holder.url}/api/v1/...)` : '') +
            ', or use a PostgreSQL server (DATABASE_URL) for several processes.',
        );
      }
      // The holder is gone (crash or kill -9): its lock is stale.
      rmSync(path, { force: true });
    }
  }
  throw new AppError(409, 'database_in_use', `Could not lock ${dataDir}; another process keeps taking it.`);
};
