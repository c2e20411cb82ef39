// Helpers of the soak suite: processes under test (forked, measured over IPC in their own
// process), raw loopback clients that speak just enough WebSocket to misbehave, and the
// bookkeeping of limits. Nothing here is a WebSocket library: frames are built by hand.
import readline from 'node:readline';
import { fork } from 'node:child_process';
import crypto from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
export const KiB = 1024;
export const MiB = 1024 * KiB;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const mib = (bytes) => `${(bytes / MiB).toFixed(1)} MiB`;
/** A growth, signed: `+1.0 MiB`, `-3.3 MiB`. */
export const plus = (bytes) => `${bytes >= 0 ? '+' : ''}${mib(bytes)}`;
export const secs = (ms) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

/** Every child this runner started, so that a failing probe still ends them (by PID, ours only). */
const children = new Set();
export function killAll() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

/**
 * Forks a process under test (`servers/<file>`) and waits for its "listening <port>" or "ready"
 * line. Returns what the probes need: its port, its stats, a peak reset, stop().
 */
export function startTarget(file, args = [], { env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(here, 'servers', file), args, {
      execArgv: ['--expose-gc'],
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    children.add(child);
    child.on('exit', () => children.delete(child));
    let done = false;
    const timer = setTimeout(() => { child.kill('SIGKILL'); if (!done) { done = true; reject(new Error(`${file} did not start within 20 s`)); } }, 20_000);
    readline.createInterface({ input: child.stdout }).on('line', (raw) => {
      const line = raw.trim();
      const m = /^listening (\d+)$/.exec(line);
      if ((m || line === 'ready') && !done) {
        done = true;
        clearTimeout(timer);
        resolve(new Target(child, m ? Number(m[1]) : undefined, file));
      } else if (/^unavailable/.test(line) && !done) {
        done = true;
        clearTimeout(timer);
        reject(new Error(`${file}: ${line} (npm run build first)`));
      }
    });
    child.on('exit', (code) => { if (!done) { done = true; clearTimeout(timer); reject(new Error(`${file} exited with ${code} before it was ready`)); } });
  });
}

let nextId = 0;
class Target {
  constructor(child, port, file) {
    this.child = child;
    this.port = port;
    this.file = file;
    this.pid = child.pid;
  }
  get alive() {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
  #ask(msg, type, timeoutMs = 15_000) {
    return new Promise((resolve) => {
      if (!this.child.connected) return resolve(null);
      const id = ++nextId;
      const onMsg = (m) => { if (m?.type === type && m.id === id) { cleanup(); resolve(m); } };
      const onExit = () => { cleanup(); resolve(null); };
      const t = setTimeout(() => { cleanup(); resolve(null); }, timeoutMs);
      const cleanup = () => { clearTimeout(t); this.child.off('message', onMsg); this.child.off('exit', onExit); };
      this.child.on('message', onMsg);
      this.child.once('exit', onExit);
      try { this.child.send({ ...msg, id }); } catch { cleanup(); resolve(null); }
    });
  }
  /** Stats measured in the process under test; `gc`: after two full collections. */
  stats(gc = false) {
    return this.#ask({ type: 'stats', gc }, 'stats');
  }
  resetPeak() {
    return this.#ask({ type: 'reset-peak' }, 'reset-peak');
  }
  async stop() {
    if (!this.alive) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}

/**
 * Samples the target's RSS every `everyMs` while a probe runs; `stop()` gives the peak (the
 * larger of the samples and VmHWM, which the target reset at the start).
 */
export async function sampler(target, everyMs = 250) {
  await target.resetPeak();
  let peak = 0;
  let peakHeap = 0;
  let maxConnections = 0;
  let maxSockets = 0;
  let last = null;
  let running = true;
  const loop = (async () => {
    while (running) {
      const s = await target.stats(false);
      if (s) {
        last = s;
        peak = Math.max(peak, s.rss, s.hwm || 0);
        peakHeap = Math.max(peakHeap, s.heapUsed);
        maxConnections = Math.max(maxConnections, s.connections);
        maxSockets = Math.max(maxSockets, s.sockets);
      }
      await sleep(everyMs);
    }
  })();
  return {
    get last() { return last; },
    async stop() {
      running = false;
      await loop;
      const s = await target.stats(false);
      if (s) peak = Math.max(peak, s.rss, s.hwm || 0);
      return { peak, peakHeap, maxConnections, maxSockets, last: s ?? last };
    },
  };
}

/** Resolves `p`, or with `fallback` once `ms` have passed (every wait of a probe is bounded). */
export function within(p, ms, fallback) {
  let t;
  return Promise.race([p, new Promise((r) => { t = setTimeout(() => r(fallback), ms); })]).finally(() => clearTimeout(t));
}

/** Waits until `pred(stats)` holds (polling the target), at most `ms`. Returns [held, stats, elapsed ms]. */
export async function waitFor(target, pred, ms, everyMs = 100) {
  const t0 = performance.now();
  let s;
  for (;;) {
    s = await target.stats(false);
    if (s && pred(s)) return [true, s, performance.now() - t0];
    if (performance.now() - t0 > ms) return [false, s, performance.now() - t0];
    await sleep(everyMs);
  }
}

// ---------------------------------------------------------------------------------------------
// Raw clients

export const DEFLATE_OFFER = 'permessage-deflate; client_max_window_bits';

export function upgradeRequest(port, { path: p = '/', deflate = false, key = crypto.randomBytes(16).toString('base64') } = {}) {
  return `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
    (deflate ? `Sec-WebSocket-Extensions: ${DEFLATE_OFFER}\r\n` : '') + '\r\n';
}

/**
 * Opens a TCP connection and completes the opening handshake. Resolves `{ socket, rest,
 * extensions }` (`rest`: bytes after the 101), the socket paused, or rejects.
 */
export function rawConnect(port, { path: p = '/', deflate = false, timeoutMs = 10_000, host = '127.0.0.1' } = {}) {
  return new Promise((resolve, reject) => {
    const key = crypto.randomBytes(16).toString('base64');
    const accept = crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    const socket = net.connect({ port, host });
    socket.setNoDelay(true);
    let buf = Buffer.alloc(0);
    const fail = (err) => { clearTimeout(t); socket.destroy(); reject(err); };
    const t = setTimeout(() => fail(new Error('handshake timed out')), timeoutMs);
    socket.on('error', fail);
    socket.once('connect', () => socket.write(upgradeRequest(port, { path: p, deflate, key })));
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.off('error', fail);
      socket.pause();
      clearTimeout(t);
      const head = buf.subarray(0, end).toString('latin1');
      if (!/^HTTP\/1\.1 101/.test(head)) return fail(new Error(`handshake refused: ${head.split('\r\n')[0]}`));
      if (!head.toLowerCase().includes(`sec-websocket-accept: ${accept.toLowerCase()}`)) return fail(new Error('bad Sec-WebSocket-Accept'));
      const ext = /sec-websocket-extensions:\s*([^\r\n]*)/i.exec(head)?.[1] ?? '';
      socket.on('error', () => {});
      resolve({ socket, rest: buf.subarray(end + 4), extensions: ext });
    };
    socket.on('data', onData);
  });
}

/** A frame header; `length` a number or bigint; masked (client) unless `mask: false`. Returns [header, key]. */
export function frameHeader(opcode, length, { fin = true, rsv1 = false, mask = true } = {}) {
  const big = BigInt(length);
  const ext = big < 126n ? 0 : big < 65536n ? 2 : 8;
  const h = Buffer.alloc(2 + ext + (mask ? 4 : 0));
  h[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  if (ext === 0) h[1] = Number(big);
  else if (ext === 2) { h[1] = 126; h.writeUInt16BE(Number(big), 2); }
  else { h[1] = 127; h.writeBigUInt64BE(big, 2); }
  let key;
  if (mask) {
    h[1] |= 0x80;
    key = crypto.randomBytes(4);
    key.copy(h, 2 + ext);
  }
  return [h, key];
}

/** A whole frame (masked unless `mask: false`). */
export function frame(opcode, payload = Buffer.alloc(0), opts = {}) {
  const p = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const [h, key] = frameHeader(opcode, p.length, opts);
  const body = Buffer.from(p);
  if (key) for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([h, body]);
}

export const closeFrame = (code = 1000, opts) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return frame(0x8, b, opts);
};

/**
 * A raw-deflated message as permessage-deflate sends it (RFC 7692 §7.2.1: sync flush, the
 * trailing 00 00 ff ff removed).
 */
export function deflateMessage(data) {
  const out = zlib.deflateRawSync(data, { flush: zlib.constants.Z_SYNC_FLUSH, level: 9 });
  return out.subarray(0, out.length - 4);
}

/**
 * Reads server frames off a socket (unmasked) and resolves `closed` with what ended it: the
 * close frame's code, or the socket's end/reset, and when (ms since `t0`).
 */
export function watchClose(socket, t0 = performance.now(), initial) {
  return new Promise((resolve) => {
    let buf = initial ?? Buffer.alloc(0);
    let done = false;
    const finish = (how) => { if (!done) { done = true; resolve({ ...how, ms: performance.now() - t0 }); } };
    const parse = () => {
      for (;;) {
        if (buf.length < 2) return;
        let len = buf[1] & 0x7f;
        let off = 2;
        if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
        else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
        const op = buf[0] & 0x0f;
        if (op === 0x8) {
          if (buf.length < off + len) return;
          finish({ code: len >= 2 ? buf.readUInt16BE(off) : 1005 });
          return;
        }
        if (buf.length < off + len) {
          // Skip payload we do not need to hold.
          const have = buf.length - off;
          skip = len - have;
          buf = Buffer.alloc(0);
          return;
        }
        buf = buf.subarray(off + len);
      }
    };
    let skip = 0;
    socket.on('data', (d) => {
      if (skip > 0) {
        if (d.length <= skip) { skip -= d.length; return; }
        d = d.subarray(skip);
        skip = 0;
      }
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      parse();
    });
    socket.on('end', () => finish({ code: 'FIN' }));
    socket.on('close', () => finish({ code: 'closed' }));
    socket.on('error', (e) => finish({ code: e.code ?? 'error' }));
    socket.resume();
    parse();
  });
}

/**
 * Is the server still serving? A fresh client handshakes, sends a 5-byte text message and
 * waits for a data frame back (any: the echo, an answer, a blast), closes. Bounded by `ms`.
 */
export async function freshClient(port, { ms = 5000 } = {}) {
  const t0 = performance.now();
  try {
    const { socket, rest } = await rawConnect(port, { timeoutMs: ms });
    const got = await within(new Promise((resolve) => {
      let buf = rest;
      const check = () => {
        if (buf.length >= 2 && (buf[0] & 0x0f) !== 0x8 && (buf[0] & 0x0f) !== 0x9 && (buf[0] & 0x0f) !== 0xa) resolve(true);
      };
      socket.on('data', (d) => { buf = Buffer.concat([buf, d]).subarray(0, 16); check(); });
      socket.on('close', () => resolve(false));
      socket.resume();
      socket.write(frame(0x1, 'fresh'));
      check();
    }), Math.max(1, ms - (performance.now() - t0)), false);
    socket.write(closeFrame(1000));
    socket.destroy();
    return { ok: got, ms: performance.now() - t0 };
  } catch (err) {
    return { ok: false, ms: performance.now() - t0, error: err.message };
  }
}

/** Writes `buf` and resolves once the socket took it (or failed): a flood paced by the kernel. */
export function writeAll(socket, buf) {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(false);
    if (socket.write(buf)) return resolve(true);
    const done = (ok) => { socket.off('drain', onDrain); socket.off('close', onClose); resolve(ok); };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    socket.once('drain', onDrain);
    socket.once('close', onClose);
  });
}

/** Opens `n` connections, `concurrency` handshakes at a time; failures are counted, not thrown. */
export async function openMany(port, n, { concurrency = 200, deflate = false, deadlineMs = 60_000 } = {}) {
  const sockets = [];
  let failed = 0;
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < n && performance.now() - t0 < deadlineMs) {
      next++;
      try {
        const { socket } = await rawConnect(port, { deflate });
        sockets.push(socket);
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { sockets, failed, ms: performance.now() - t0 };
}

export function destroyAll(sockets) {
  for (const s of sockets) s.destroy();
}

// ---------------------------------------------------------------------------------------------
// Limits

/**
 * A probe's measured figures for one server and the checks of its limits: `check(label,
 * ok)`; the cell text is built by the probe.
 */
export class Verdict {
  constructor() {
    this.failures = [];
    this.notes = [];
  }
  check(ok, what) {
    if (!ok) this.failures.push(what);
    return ok;
  }
  get ok() {
    return this.failures.length === 0;
  }
}

/** The common end of a probe: memory growth and a fresh client, after the attack. */
export async function settleAndMeasure(target, base, verdict, { retainedLimit, settleMs = 8000, connectionsAfter = 0 }) {
  const [settled, s] = await waitFor(target, (x) => x.connections <= connectionsAfter && x.sockets <= connectionsAfter, settleMs);
  verdict.check(settled, `connections did not fall to ${connectionsAfter} within ${secs(settleMs)} (${s?.connections} open, ${s?.sockets} sockets)`);
  const fresh = await freshClient(target.port);
  verdict.check(fresh.ok, `a fresh client was not served afterwards (${fresh.error ?? 'no answer'})`);
  const after = await target.stats(true);
  const retained = after ? after.rss - base.rss : NaN;
  if (retainedLimit !== undefined) verdict.check(retained <= retainedLimit, `RSS retained ${mib(retained)} > ${mib(retainedLimit)}`);
  return { settled, stats: s, fresh, after, retained, heapRetained: after ? after.heapUsed - base.heapUsed : NaN };
}
