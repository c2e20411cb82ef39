import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// The API reference builds, and every public symbol of the entries (members included)
// has a doc comment: typedoc.json sets validation.notDocumented and treatWarningsAsErrors, so
// an export added without one fails here with TypeDoc's list of what is missing. Same
// configuration as `npm run docs`, written to a temp dir instead of docs/api/.

const root = resolve(__dirname, '../..');
const typedoc = join(root, 'node_modules/typedoc/bin/typedoc');

describe('API reference (TypeDoc)', () => {
  it('builds from lib/index.ts, lib/node/index.ts, lib/sans-io.ts, lib/pubsub/index.ts and lib/websocket-stream.ts with every export documented', async () => {
    if (!existsSync(typedoc)) throw new Error(`${typedoc} is missing: run \`npm install\` (typedoc is a devDependency)`);
    const out = mkdtempSync(join(tmpdir(), 'api-docs-'));
    try {
      const result = await new Promise<{ code: number | null; output: string }>((done) => {
        const child = execFile(
          process.execPath,
          [typedoc, '--options', join(root, 'typedoc.json'), '--out', out, '--logLevel', 'Warn'],
          { cwd: root, maxBuffer: 16 << 20, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } },
          (_err, stdout, stderr) => done({ code: child.exitCode, output: stdout + stderr }),
        );
      });
      if (result.code !== 0) throw new Error(`typedoc failed (exit ${result.code}):\n${result.output}`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
