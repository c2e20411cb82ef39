// `npm run build` step: package.json's `exports` and `typesVersions` follow scripts/entries.mjs.
// Out of date, they are rewritten (and the change is reported: commit it). Under `npm pack` /
// `npm publish` (prepack) an out-of-date package.json fails the build instead, since npm has
// already read it. `--check` only checks.
import { readFileSync, writeFileSync } from 'node:fs';
import { packageFields } from './entries.mjs';

const file = new URL('../package.json', import.meta.url);
const text = readFileSync(file, 'utf8');
const pkg = JSON.parse(text);
const want = packageFields();
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
if (same(pkg.exports, want.exports) && same(pkg.typesVersions, want.typesVersions)) process.exit(0);

if (process.argv.includes('--check') || process.env.npm_lifecycle_event === 'prepack') {
  console.error('package.json `exports`/`typesVersions` do not match scripts/entries.mjs: run `npm run build` and commit package.json');
  process.exit(1);
}
// Keep the key order of package.json: replace the two fields in place (typesVersions after exports).
const out = {};
for (const [k, v] of Object.entries(pkg)) {
  if (k === 'typesVersions') continue;
  out[k] = k === 'exports' ? want.exports : v;
  if (k === 'exports') out.typesVersions = want.typesVersions;
}
if (!('exports' in out)) Object.assign(out, want);
writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
console.log('package.json: `exports` and `typesVersions` rewritten from scripts/entries.mjs (commit the change)');
