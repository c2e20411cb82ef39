// What every server under test shares: announce the port, answer the runner's stats requests over
// the IPC channel, exit on SIGTERM or when the runner goes away.
import fs from 'node:fs';

/** Prints the line the runner waits for. */
export function listening(port) {
  process.stdout.write(`listening ${port}\n`);
}

/** Our library is not built (or lacks what this server needs): the runner shows "n/a". */
export function unavailable(reason) {
  process.stdout.write(`unavailable ${reason}\n`);
  process.exit(3);
}

function vmHwm() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * Installs the lifecycle handlers. `counters` may carry extra numbers the server wants reported
 * (connections, errors).
 */
export function lifecycle(counters = {}) {
  const exit = () => process.exit(0);
  process.on('SIGTERM', exit);
  process.on('disconnect', exit);
  process.on('message', (m) => {
    if (m?.type !== 'stats') return;
    if (m.gc && typeof globalThis.gc === 'function') {
      globalThis.gc();
      globalThis.gc();
    }
    const mem = process.memoryUsage();
    process.send({
      type: 'stats', id: m.id, rss: mem.rss, heapUsed: mem.heapUsed, external: mem.external,
      arrayBuffers: mem.arrayBuffers, hwm: vmHwm(), cpu: process.cpuUsage(), ...counters,
    });
  });
  // Stay quiet about expected socket errors (the loadgen destroys its sockets at the end of a run).
  process.on('uncaughtException', (err) => {
    if (err?.code === 'ECONNRESET' || err?.code === 'EPIPE') return;
    process.stderr.write(`server error: ${err?.stack ?? err}\n`);
    process.exit(1);
  });
}

/** Parsed `--flag` style options of a server process. */
export const flags = new Set(process.argv.slice(2));
export const deflate = flags.has('--deflate') || process.env.BENCH_DEFLATE === '1';
