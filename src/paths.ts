import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding Touchpoint's package.json, whether running from `src/` (tsx) or `dist/`. */
export const packageRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('Touchpoint package root not found');
    dir = parent;
  }
  return dir;
})();

export const migrationsDir = join(packageRoot, 'src', 'db', 'migrations');
