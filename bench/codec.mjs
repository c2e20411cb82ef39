// `npm run bench:codec`: the codec alone, next to ws's receiver path, in one run.
// Frames are built once; only parsing/unmasking/validation is timed. Medians of 7 runs.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isUtf8 } from 'node:buffer';
import { cpus } from 'node:os';

const here = new URL('.', import.meta.url);
if (!existsSync(new URL('../dist/sans-io.mjs', here))) execSync('npm run build', { stdio: 'inherit', cwd: new URL('..', here) });
const { FrameParser, maskInPlace, Utf8Validator } = await import('../dist/sans-io.mjs');
const require = createRequire(import.meta.url);
// ws's internals are not in its exports map: load them by file path.
const wsDir = new URL('../node_modules/ws/', import.meta.url).pathname;
const Receiver = require(wsDir + 'lib/receiver.js');
const { isValidUTF8: wsIsValidUTF8 } = require(wsDir + 'lib/validation.js');
let wsHasBufferutil = false;
try { require.resolve('bufferutil'); wsHasBufferutil = true; } catch { /* not installed: ws uses its JS masking */ }

const RUNS = 7;
const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];

/** Runs `fn` (which processes `bytes` bytes) for ~150 ms per run, returns median MB/s. */
function measure(bytes, fn) {
  for (let i = 0; i < 20; i++) fn(); // warm-up: let V8 optimise
  const rates = [];
  for (let r = 0; r < RUNS; r++) {
    let n = 0;
    const t0 = process.hrtime.bigint();
    let dt = 0;
    do { fn(); n++; dt = Number(process.hrtime.bigint() - t0) / 1e9; } while (dt < 0.15);
    rates.push((n * bytes) / dt / 1e6);
  }
  return median(rates);
}

function maskedFrame(size) {
  const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const head = size < 65536 ? Buffer.from([0x82, 0xfe, size >> 8, size & 255]) : Buffer.from([0x82, 0xff, 0, 0, 0, 0, size >>> 24, (size >>> 16) & 255, (size >>> 8) & 255, size & 255]);
  const payload = Buffer.alloc(size);
  for (let i = 0; i < size; i++) payload[i] = (i * 7) ^ key[i & 3];
  return Buffer.concat([head, key, payload]);
}

// Both parsers unmask in place, so feeding the same buffer again is the same amount of work.
function oursParse(frame, size) {
  const parser = new FrameParser({ role: 'server', maxFrameSize: Number.MAX_SAFE_INTEGER });
  return () => {
    parser.push(frame);
    let got = 0;
    for (let ev = parser.next(); ev; ev = parser.next()) if (ev.type === 'frame-data') got += ev.data.length;
    if (got !== size) throw new Error('short parse');
  };
}
function wsParse(frame) {
  const receiver = new Receiver({ isServer: true, maxPayload: 0, skipUTF8Validation: true, allowSynchronousEvents: true });
  let got = 0;
  receiver.on('message', (data) => (got += data.length));
  return () => {
    got = 0;
    receiver.write(frame);
    if (got === 0) throw new Error('ws parsed nothing');
  };
}

function text(kind, size) {
  const unit = kind === 'ascii' ? '{"id":12345,"name":"websocket-streams","ok":true,"tags":["a","b"]},' : 'Привет, мир! 你好，世界！ Καλημέρα κόσμε ';
  let s = '';
  while (Buffer.byteLength(s) < size) s += unit;
  return Buffer.from(s).subarray(0, size - 64); // may cut a character: validate only complete text
}

const rows = [];
const row = (what, ours, ws, note = '') => rows.push({ what, ours, ws, note });
const fmt = (x) => (x >= 1000 ? `${(x / 1000).toFixed(2)} GB/s` : `${x.toFixed(0)} MB/s`);

for (const size of [64 * 1024, 1024 * 1024]) {
  const frame = maskedFrame(size);
  const label = size === 65536 ? '64 KiB' : '1 MiB';
  row(`parse + unmask, ${label} masked frame`, measure(size, oursParse(frame, size)), measure(size, wsParse(frame)));
}

const key = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);
const buf = new Uint8Array(1024 * 1024);
const wsMask = require(wsDir + 'lib/buffer-util.js').mask;
const out = Buffer.alloc(buf.length);
row('unmask only, 1 MiB (maskInPlace / ws mask)', measure(buf.length, () => maskInPlace(buf, key, 0)), measure(buf.length, () => wsMask(buf, key, out, 0, buf.length)));

for (const kind of ['ascii', 'multibyte']) {
  const t = text(kind, 1024 * 1024);
  const complete = (() => { let n = t.length; while (n > 0 && (t[n - 1] & 0xc0) === 0x80) n--; return n > 0 && t[n - 1] >= 0xc0 ? n - 1 : n; })();
  const data = t.subarray(0, complete);
  const v = new Utf8Validator();
  const js = measure(data.length, () => { v.reset(); if (v.push(data) !== -1) throw new Error('invalid'); });
  const vn = new Utf8Validator(isUtf8);
  const native = measure(data.length, () => { vn.reset(); if (vn.push(data) !== -1) throw new Error('invalid'); });
  row(`UTF-8, 1 MiB ${kind} text: JS validator`, js, measure(data.length, () => wsIsValidUTF8(data)), 'ws column: ws isValidUTF8 (buffer.isUtf8 native)');
  row(`UTF-8, 1 MiB ${kind} text: with Node's isUtf8 plugged in`, native, NaN);
}

console.log(`\nCodec bench — ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, ws ${require(wsDir + 'package.json').version} ${wsHasBufferutil ? 'with' : 'without'} bufferutil; medians of ${RUNS} runs\n`);
console.log('| work | websocket-streams | ws | ratio | note |');
console.log('|---|---:|---:|---:|---|');
for (const r of rows) console.log(`| ${r.what} | ${fmt(r.ours)} | ${Number.isNaN(r.ws) ? '' : fmt(r.ws)} | ${Number.isNaN(r.ws) ? '' : (r.ours / r.ws).toFixed(2) + '×'} | ${r.note} |`);
console.log('\nTargets (issue 2): unmask ≥ 2 GB/s on 1 MiB; parse+unmask ≥ ws receiver without bufferutil; JS UTF-8 ≥ 1.5 GB/s ASCII-heavy and ≥ 300 MB/s multibyte.');
