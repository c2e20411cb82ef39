// What every process under test in the soak suite shares (ours and ws, server or client role):
// the "listening <port>" / "ready" line the runner waits for, and stats over the IPC channel,
// measured in this process: RSS, heap, VmHWM (peak RSS), open connections and sockets, and a
// tally of how connections ended, with their lifetimes (the time to the verdict).
import fs from 'node:fs';

export const argv = process.argv.slice(2);
export const flag = (name) => argv.includes(name);
export const value = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
};
export const deflate = flag('--deflate');
export const mode = value('--mode', 'echo');

function vm(field) {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Resets VmHWM (peak RSS) to the current RSS, so that a probe's peak is its own (Linux ≥ 4.0). */
function resetPeak() {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** What the process counts; the server or client updates it. */
export const counters = {
  connections: 0, // open WebSocket connections
  opened: 0, // WebSocket connections opened in all
  sockets: 0, // open TCP sockets (handshakes in progress included)
  socketsOpened: 0,
  ended: {}, // 'endedBy/code' (ours) or 'close/code' / 'error/CODE' (ws) → count
  lifetimesMs: [], // of the last 2000 connections that ended (ms from open to close)
  // Of the last 2000 sockets that closed without becoming a WebSocket, by what they had sent:
  // 'head' (no complete request head), 'hang' (an upgrade to /hang, whose hook never answers).
  socketLifetimesMs: { head: [], hang: [] },
  handshakeFailures: 0,
  messages: 0,
  errors: 0,
};

export function tally(key) {
  counters.ended[key] = (counters.ended[key] ?? 0) + 1;
}
export function lifetime(list, ms) {
  list.push(Math.round(ms));
  if (list.length > 2000) list.shift();
}

/** Counts TCP sockets of a node `net`/`http` server, and the lifetimes of those that never upgraded. */
export function trackSockets(server) {
  server.on('connection', (socket) => {
    const t0 = performance.now();
    counters.sockets++;
    counters.socketsOpened++;
    socket.on('close', () => {
      counters.sockets--;
      const kind = socket.soakKind ?? 'head';
      if (kind !== 'ws') lifetime(counters.socketLifetimesMs[kind], performance.now() - t0);
    });
  });
  // Runs before the library's own 'upgrade' listener (prepended): marks what the socket sent.
  server.prependListener('upgrade', (req, socket) => {
    socket.soakKind = req.url?.startsWith('/hang') ? 'hang' : 'ws';
  });
}

export function ready(line) {
  process.stdout.write(`${line}\n`);
}

export function lifecycle() {
  const exit = () => process.exit(0);
  process.on('SIGTERM', exit);
  process.on('disconnect', exit);
  process.on('message', (m) => {
    if (m?.type === 'reset-peak') {
      process.send({ type: 'reset-peak', id: m.id, ok: resetPeak() });
      return;
    }
    if (m?.type !== 'stats') return;
    if (m.gc && typeof globalThis.gc === 'function') {
      globalThis.gc();
      globalThis.gc();
    }
    const mem = process.memoryUsage();
    process.send({
      type: 'stats', id: m.id, rss: mem.rss, heapUsed: mem.heapUsed, external: mem.external,
      arrayBuffers: mem.arrayBuffers, hwm: vm('VmHWM'), cpu: process.cpuUsage(), ...counters,
      ended: { ...counters.ended },
      socketLifetimesMs: { head: [...counters.socketLifetimesMs.head], hang: [...counters.socketLifetimesMs.hang] },
    });
  });
  process.on('uncaughtException', (err) => {
    if (err?.code === 'ECONNRESET' || err?.code === 'EPIPE') {
      counters.errors++;
      return;
    }
    process.stderr.write(`uncaught in process under test: ${err?.stack ?? err}\n`);
    process.exit(1);
  });
}

/** A message of `size` bytes, the same buffer every time (the "blast" mode's payload). */
export const blastPayload = (size) => Buffer.alloc(size, 0x61);
