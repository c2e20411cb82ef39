// Starting, asking and stopping the processes of a bench run: the servers under test
// (bench/servers/*.mjs) and what /proc says about any process. Shared by bench/run.mjs and
// bench/fanout.mjs.
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * Forks `bench/servers/<file>`; resolves with `{ child, port, info }` once it prints `listening <port>`,
 * `{ unavailable }` or `{ error }`.
 */
export function startServer(file, serverArgs, env) {
  return new Promise((resolve) => {
    const child = fork(path.join(here, 'servers', file), serverArgs, {
      // BENCH_SERVER_NODE_ARGS: extra node flags for the servers only (`--cpu-prof`, `--trace-gc`).
      execArgv: ['--expose-gc', ...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean)],
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    const info = {};
    let buf = '';
    let done = false;
    const finish = (v) => { if (!done) { done = true; clearTimeout(timer); resolve(v); } };
    const timer = setTimeout(() => { child.kill('SIGKILL'); finish({ error: `${file} did not start within 20 s` }); }, 20_000);
    child.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        let m;
        if ((m = /^listening (\d+)$/.exec(line))) finish({ child, port: Number(m[1]), info });
        else if ((m = /^unavailable (.*)$/.exec(line))) finish({ unavailable: m[1] });
        else if ((m = /^info (\w+)=(\S+)$/.exec(line))) info[m[1]] = m[2];
      }
    });
    child.on('exit', (code) => finish({ error: `${file} exited with code ${code} before listening` }));
  });
}

/** SIGTERM, SIGKILL after 5 s; resolves once the server has exited. */
export async function stopServer(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

let statsId = 0;
/** Asks a server for its memory and CPU time (`gc`: after a full GC); null if it does not answer. */
export function serverStats(child, gc = false, timeoutMs = 10_000) {
  return new Promise((resolve) => {
    if (!child?.connected) return resolve(null);
    const id = ++statsId;
    const onMsg = (m) => { if (m?.type === 'stats' && m.id === id) { cleanup(); resolve(m); } };
    const onExit = () => { cleanup(); resolve(null); };
    const t = setTimeout(() => { cleanup(); resolve(null); }, timeoutMs);
    const cleanup = () => { clearTimeout(t); child.off('message', onMsg); child.off('exit', onExit); };
    child.on('message', onMsg);
    child.once('exit', onExit);
    try { child.send({ type: 'stats', id, gc }); } catch { cleanup(); resolve(null); }
  });
}

/** utime + stime of a process in clock ticks (100 per second on Linux). */
export function cpuTicks(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return NaN;
  }
}

/**
 * CPU time of a process in nanoseconds, exact: the sum over its threads of the first field of
 * /proc/<pid>/task/<tid>/schedstat (time on a CPU). Falls back to the stat ticks (10 ms steps),
 * NaN where there is no /proc.
 */
export function cpuNs(pid) {
  try {
    let ns = 0;
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    return ns;
  } catch {
    return cpuTicks(pid) * 1e7;
  }
}
