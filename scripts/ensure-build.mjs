// `predemo`: builds dist/ when it is missing or older than its sources, so `npm install &&
// npm run demo` works on a fresh clone (the package no longer builds on install: `prepack`
// builds what is published).
import { execSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { entries } from './entries.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const mtime = (p) => { try { return statSync(join(root, p)).mtimeMs; } catch { return -Infinity; } };
const newest = (dir) => Math.max(...readdirSync(join(root, dir), { recursive: true }).map((f) => mtime(join(dir, f))));

// The wrappers are the build's last outputs.
const built = Math.min(...entries.map((e) => mtime(`dist/${e.name}.mjs`)), mtime('dist/cli.cjs'));
const sources = Math.max(newest('lib'), newest('scripts'), mtime('rollup.config.mjs'), mtime('tsconfig.json'), mtime('package.json'));
if (built === -Infinity || sources > built) {
  console.log(built === -Infinity ? 'dist/ is missing: building it' : 'dist/ is older than lib/: rebuilding it');
  execSync('npm run build', { cwd: root, stdio: 'inherit' });
}
