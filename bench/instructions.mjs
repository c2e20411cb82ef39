// Instructions per message of an echo server, counted by valgrind's callgrind: a measure of the
// server's own work that does not move with this VM's speed, where CPU time per message moves by
// ±5 % from one process to the next (bench/RESULTS.md). The kernel's work is not counted: compare
// it with `strace -c` (the same system calls per message in both builds is what makes the user
// space count the difference).
//
//   node bench/instructions.mjs [--server ours-stream|ours-autobahn] [--size 1048576]
//     [--warmup 4000] [--messages 1000] [--runs 1] [--base-dist DIR] [--timeout-minutes 30]
//
// Each run starts the server under `valgrind --tool=callgrind` with counting off, echoes
// `--warmup` messages over one connection (two in flight), counts the next `--messages`, and prints
// the count per message by part (the JIT's code, V8's builtins, its garbage collector and compiler,
// libc's copies and malloc, the rest). With `--base-dist` (or BENCH_BASE_DIST) every run measures
// both builds, one after the other, alternating which goes first. Needs valgrind (Debian package
// `valgrind`); a 1 MiB echo runs about 50× slower under it than natively.
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const server = opt('--server', 'ours-stream');
const size = Number(opt('--size', 1024 * 1024));
const warmup = Number(opt('--warmup', 4000));
const messages = Number(opt('--messages', 1000));
const runs = Number(opt('--runs', 1));
/** A measurement that takes longer than this (the server stuck, or far slower than expected) is ended. */
const timeoutMs = Number(opt('--timeout-minutes', 30)) * 60_000;
const baseDist = opt('--base-dist', process.env.BENCH_BASE_DIST);
const dist = process.env.BENCH_DIST ?? path.join(here, '..', 'dist');
const WebSocket = createRequire(import.meta.url)('ws');

/**
 * The parts a function of callgrind's report is counted in (the first that matches). Builtins
 * go before the collector: `Builtins_Call_*_Baseline_Compact` is the mutator's, and a broad
 * pattern (`Heap`, `Visitor`) would count allocation (`Heap::AllocateExternalBackingStore`) and
 * API calls as collection.
 */
const PARTS = [
  ['memcpy', /memmove|memcpy|memset/],
  ['malloc', /malloc|_int_free|\bfree\b|unlink_chunk/],
  ['compiler', /compiler::|maglev|Turbofan|Pipeline/i],
  ['builtins', /Builtins_/],
  ['GC', /Mark|Sweep|Scaveng|Evacuat|Remembered|SlotSet|Compactor|Worklist|Migrat|MemoryChunk|ActiveSystemPages|IterateObjectCache|OnMoveEvent|popcount|Incremental|PointersUpdating|RootVisitor|Heap::(Iterate|Collect|ClearKept|Gc|GarbageCollection)|SizeFromMap|GCTracer|Weak(Objects|ListVisitor|Cell)|StringTableCleaner/],
  ['JIT code', /^\?\?\?:0x/],
];

function parts(file) {
  const out = execFileSync('callgrind_annotate', ['--threshold=100', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const sums = { total: 0 };
  for (const line of out.split('\n')) {
    const m = /^\s*([\d,]+) \([ \d.]+%\)\s+(.*)$/.exec(line);
    if (!m || m[2].includes('PROGRAM TOTALS')) continue;
    const n = Number(m[1].replaceAll(',', ''));
    const part = PARTS.find(([, re]) => re.test(m[2]))?.[0] ?? 'other';
    sums[part] = (sums[part] ?? 0) + n;
    sums.total += n;
  }
  return sums;
}

/** Echoes `count` messages over `ws`, two in flight. */
function echo(ws, payload, count) {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let got = 0;
    const onClose = (code) => reject(new Error(`the connection closed (${code}) after ${got} of ${count} messages`));
    const onMessage = () => {
      got++;
      if (sent < count) {
        sent++;
        ws.send(payload);
      } else if (got === count) {
        ws.off('message', onMessage);
        ws.off('close', onClose);
        resolve();
      }
    };
    ws.on('message', onMessage);
    ws.once('close', onClose);
    for (; sent < Math.min(2, count); sent++) ws.send(payload);
  });
}

async function measure(distDir, dir) {
  const out = path.join(dir, `callgrind-${Math.random().toString(36).slice(2)}.out`);
  const child = spawn('valgrind', ['--tool=callgrind', '--instr-atstart=no', '--smc-check=all-non-file', `--callgrind-out-file=${out}`,
    process.execPath, path.join(here, 'servers', `${server}.mjs`)], { env: { ...process.env, BENCH_DIST: distDir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdout.setEncoding('utf8');
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  try {
    return await countWindow(child, out, () => stderr);
  } catch (err) {
    throw timedOut ? new Error(`the measurement took longer than --timeout-minutes (${timeoutMs / 60_000}) and was ended: ${err.message}`) : err;
  } finally {
    clearTimeout(timer);
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    rmSync(out, { force: true });
  }
}

/** Waits for the server's port, echoes the warm-up, counts the window; the server is `child`. */
async function countWindow(child, out, stderr) {
  let stdout = '';
  const port = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = /^listening (\d+)$/m.exec(stdout);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`${server} exited (${code}) before listening: ${stderr().slice(-2000)}`)));
    child.once('error', (err) => reject(new Error(`cannot start valgrind (${err.message}): it is the Debian package \`valgrind\``)));
  });
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  await once(ws, 'open');
  const payload = Buffer.alloc(size, 7);
  await echo(ws, payload, warmup);
  execFileSync('callgrind_control', ['-i', 'on', String(child.pid)], { stdio: 'ignore' });
  await echo(ws, payload, messages);
  execFileSync('callgrind_control', ['-i', 'off', String(child.pid)], { stdio: 'ignore' });
  ws.close();
  await once(ws, 'close');
  child.kill('SIGTERM');
  await once(child, 'exit');
  const sums = parts(out);
  for (const k of Object.keys(sums)) sums[k] /= messages;
  return sums;
}

const fmt = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(3)}M` : `${(n / 1e3).toFixed(1)}k`);
const dir = mkdtempSync(path.join(tmpdir(), 'instructions-'));
try {
  console.log(`${server}, ${size} B messages: instructions per message, messages ${warmup + 1}–${warmup + messages} of one connection`);
  for (let r = 0; r < runs; r++) {
    const order = baseDist ? (r % 2 === 0 ? [['new', dist], ['base', baseDist]] : [['base', baseDist], ['new', dist]]) : [['new', dist]];
    const got = {};
    for (const [name, d] of order) got[name] = await measure(d, dir);
    const keys = ['total', ...PARTS.map(([k]) => k), 'other'];
    for (const [name] of order) console.log(`run ${r + 1} ${name.padEnd(4)} ${keys.map((k) => `${k} ${fmt(got[name][k] ?? 0)}`).join(', ')}`);
    if (got.base) console.log(`run ${r + 1} new÷base ${(got.new.total / got.base.total).toFixed(4)}×, new−base ${keys.map((k) => `${k} ${((got.new[k] ?? 0) - (got.base[k] ?? 0) >= 0 ? '+' : '−')}${fmt(Math.abs((got.new[k] ?? 0) - (got.base[k] ?? 0)))}`).join(', ')}`);
  }
} catch (err) {
  console.error(`bench/instructions.mjs: ${err.message}`);
  process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
