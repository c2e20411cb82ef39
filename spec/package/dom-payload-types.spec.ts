// Received payloads are typed `Uint8Array<ArrayBuffer>` (never SharedArrayBuffer-backed), so
// they go straight into DOM APIs typed with `BufferSource` (`CompressionStream`,
// `crypto.subtle.digest`, `Blob`) in a project with `lib: ["DOM"]`. Typed as plain
// `Uint8Array<ArrayBufferLike>`, the README's `CompressionStream` pipeline failed with TS2345.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../..');
const tsc = join(root, 'node_modules/typescript/bin/tsc');

const program = `
import { connect } from 'websocket-streams/node';

const conn = await connect('ws://127.0.0.1:8080/');
for await (const msg of conn) {
  // A message's bytes through a DOM transform, as README's example does.
  await msg.stream().pipeThrough(new CompressionStream('gzip')).pipeTo(new WritableStream<Uint8Array>());
  for await (const frame of msg.frames) {
    await frame.data.pipeThrough(new DecompressionStream('deflate-raw')).pipeTo(new WritableStream());
  }
}
const whole = await (await conn.nextMessage())!.bytes();
const digest: ArrayBuffer = await crypto.subtle.digest('SHA-256', whole);
const blob = new Blob([whole]);
console.log(digest.byteLength, blob.size);
`;

describe('payload types with lib: ["DOM"]', () => {
  it("a received message's stream, frames and bytes type-check against DOM APIs taking BufferSource (strict)", async () => {
    if (!existsSync(join(root, 'dist/node.d.mts'))) throw new Error('dist/ is missing: run `npm run build` first');
    mkdirSync(join(root, '.tmp'), { recursive: true });
    const dir = mkdtempSync(join(root, '.tmp/dom-types-')); // inside the repo: the package resolves to itself
    try {
      writeFileSync(join(dir, 'main.mts'), program);
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: {
          target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', lib: ['ES2022', 'DOM', 'DOM.Iterable'],
          strict: true, types: ['node'], typeRoots: [join(root, 'node_modules/@types')], noEmit: true, pretty: false,
        },
        files: ['main.mts'],
      }));
      const output = await new Promise<string>((done) => {
        execFile(process.execPath, [tsc, '-p', dir], { cwd: dir, maxBuffer: 16 << 20 }, (_err, stdout, stderr) => done(stdout + stderr));
      });
      expect(output.trim()).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
