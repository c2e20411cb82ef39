// Load generator for the echo benchmarks. Runs as its own process (forked by bench/run.mjs), so the
// server under test and the client never share an event loop. No WebSocket library is used here:
// raw `net` sockets, a minimal client handshake, frames built and masked once and then re-sent from
// the same buffers, and a minimal frame parser that counts echoed messages and checks a sample of
// them. Everything is bounded: each job stops itself after its duration (or its one big message).
//
// Protocol with the parent: the parent sends one `{ type: 'job', job }` message; the loadgen
// answers `{ type: 'result', ... }` (or `{ type: 'error', message }`) and exits. Idle jobs first
// answer `{ type: 'ready' }` once every connection is open, then wait for `{ type: 'close' }`;
// echo-slots jobs answer `ready` too and then run the slots the parent calls (`runEchoSlots`).
//
// Modes:
//   ws   WebSocket: GET upgrade, 101 + Sec-WebSocket-Accept checked, masked client frames sent,
//        unmasked server frames parsed.
//   tcp  The same masked client frames are written to a plain TCP echo, which sends them back
//        unchanged; the parser accepts the masked frames it gets back (it skips their 4-byte keys)
//        and checksums the masked payload. The client therefore does exactly the same work in both
//        modes, which makes the TCP echo a fair ceiling.
import fs from 'node:fs';
import net from 'node:net';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { pathToFileURL } from 'node:url';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_HEADER = 14;

/** Log-scale latency histogram: bucket i covers [1.02^i, 1.02^(i+1)) microseconds. */
export const HIST_BASE = 1.02;
export const HIST_BUCKETS = 1200; // 1.02^1200 µs ≈ 20 000 s: nothing falls off the end

/** The histogram bucket of a latency in microseconds. */
export function histIndex(us) {
  if (us < 1) return 0;
  const i = Math.floor(Math.log(us) / Math.log(HIST_BASE));
  return i >= HIST_BUCKETS ? HIST_BUCKETS - 1 : i;
}

/** Percentile (0..1) of a histogram, as the upper edge of the bucket, in microseconds. */
export function histPercentile(hist, p) {
  let total = 0;
  for (const c of hist) total += c;
  if (total === 0) return NaN;
  const target = Math.ceil(total * p);
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i];
    if (seen >= target) return HIST_BASE ** (i + 1);
  }
  return NaN;
}

/** One client frame, masked with `key`, header included. */
export function buildFrame(payload, { opcode = 2, rsv1 = false, masked = true, key } = {}) {
  const len = payload.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const hs = 2 + ext + (masked ? 4 : 0);
  const frame = Buffer.allocUnsafe(hs + len);
  frame[0] = 0x80 | (rsv1 ? 0x40 : 0) | opcode;
  if (ext === 0) frame[1] = len;
  else if (ext === 2) { frame[1] = 126; frame.writeUInt16BE(len, 2); }
  else { frame[1] = 127; frame.writeUInt32BE(Math.floor(len / 2 ** 32), 2); frame.writeUInt32BE(len >>> 0, 6); }
  if (masked) {
    frame[1] |= 0x80;
    const k = key ?? crypto.randomBytes(4);
    k.copy(frame, 2 + ext);
    for (let i = 0; i < len; i++) frame[hs + i] = payload[i] ^ k[i & 3];
  } else {
    payload.copy(frame, hs);
  }
  return { frame, headerSize: hs };
}

/** Deterministic JSON-like ASCII text of exactly `size` bytes. */
export function jsonLike(size) {
  const parts = ['['];
  let n = 1;
  for (let i = 0; n < size; i++) {
    const item = JSON.stringify({
      id: i, name: `user-${i}`, email: `user${i}@example.com`, active: i % 3 !== 0,
      score: Math.round(((i * 7919) % 10007) / 10.007) / 100, tags: ['alpha', 'beta', 'gamma'].slice(0, 1 + (i % 3)),
    }) + ',';
    parts.push(item);
    n += item.length;
  }
  let s = parts.join('');
  s = s.slice(0, size);
  return Buffer.from(s, 'latin1');
}

/** The payload every echo job sends: random bytes (binary) or JSON-like text (text). */
export function makePayload(size, text) {
  if (text) return jsonLike(size);
  // Pseudo-random but cheap for 16 MiB: one random 64 KiB block repeated with a varying byte.
  const block = crypto.randomBytes(Math.min(size, 65536));
  const out = Buffer.allocUnsafe(size);
  for (let off = 0, r = 0; off < size; off += block.length, r++) {
    block.copy(out, off, 0, Math.min(block.length, size - off));
    out[off] ^= r & 0xff;
  }
  return out;
}

function sha1(buf) {
  return crypto.createHash('sha1').update(buf).digest('hex');
}

/**
 * Minimal incremental parser for the frames the server sends back. Counts complete messages
 * (data frames up to FIN), checks the length of every message (when it is known), and hashes a
 * sample of messages with SHA-1 to compare against the payload that was sent.
 */
export class EchoParser {
  constructor(check, onMessage, onControl) {
    this.check = check; // { length, sha1, sampleEvery (0: never), inflate, keepHead? }
    // The first `keepHead` payload bytes of the current message (the fan-out job reads its send
    // time and sequence number there), valid during onMessage.
    this.head = check.keepHead ? Buffer.alloc(check.keepHead) : null;
    this.headLen = 0;
    this.onMessage = onMessage;
    this.onControl = onControl;
    this.hbuf = Buffer.allocUnsafe(MAX_HEADER);
    this.hLen = 0;
    this.inFrame = false;
    this.need = 0;
    this.fin = false;
    this.opcode = 0;
    this.msgBytes = 0;
    this.msgCompressed = false;
    this.msgIndex = 0;
    this.hash = null; // sampling SHA-1 for the current message
    this.chunks = null; // compressed chunks for a sampled deflate message
    this.control = null;
    this.error = null;
  }

  push(buf) {
    const n = buf.length;
    let i = 0;
    while (i < n) {
      if (!this.inFrame) {
        let h = buf, ho = i, avail = n - i;
        const had = this.hLen;
        if (had > 0) {
          const take = Math.min(MAX_HEADER - had, n - i);
          buf.copy(this.hbuf, had, i, i + take);
          h = this.hbuf; ho = 0; avail = had + take;
        }
        if (avail < 2) { this.#stash(buf, i, n, had); return; }
        const b0 = h[ho], b1 = h[ho + 1];
        const masked = (b1 & 0x80) !== 0;
        let len = b1 & 0x7f;
        let hs = 2;
        if (len === 126) hs = 4; else if (len === 127) hs = 10;
        if (masked) hs += 4;
        if (avail < hs) { this.#stash(buf, i, n, had); return; }
        if (len === 126) len = h.readUInt16BE(ho + 2);
        else if (len === 127) len = h.readUInt32BE(ho + 2) * 2 ** 32 + h.readUInt32BE(ho + 6);
        i += hs - had;
        this.hLen = 0;
        this.#frameStart(b0, len);
        if (this.error) return;
        if (len === 0) this.#frameEnd();
      } else {
        const take = Math.min(this.need, n - i);
        this.#data(buf, i, i + take);
        i += take;
        this.need -= take;
        if (this.need === 0) this.#frameEnd();
      }
      if (this.error) return;
    }
  }

  #stash(buf, i, n, had) {
    if (had === 0) { buf.copy(this.hbuf, 0, i, n); this.hLen = n - i; }
    else this.hLen = Math.min(MAX_HEADER, had + (n - i));
  }

  #frameStart(b0, len) {
    const opcode = b0 & 0x0f;
    this.fin = (b0 & 0x80) !== 0;
    this.opcode = opcode;
    this.need = len;
    this.inFrame = true;
    if (opcode >= 8) { this.control = []; return; }
    if (opcode === 0) return; // continuation
    this.msgBytes = 0;
    this.headLen = 0;
    this.msgCompressed = (b0 & 0x40) !== 0;
    const sampled = this.check.sampleEvery > 0 && this.msgIndex % this.check.sampleEvery === 0;
    this.hash = sampled && !this.msgCompressed ? crypto.createHash('sha1') : null;
    this.chunks = sampled && this.msgCompressed ? [] : null;
  }

  #data(buf, start, end) {
    if (this.control) { this.control.push(Buffer.from(buf.subarray(start, end))); return; }
    this.msgBytes += end - start;
    if (this.head !== null && this.headLen < this.head.length) this.headLen += buf.copy(this.head, this.headLen, start, Math.min(end, start + this.head.length - this.headLen));
    if (this.hash) this.hash.update(buf.subarray(start, end));
    else if (this.chunks) this.chunks.push(Buffer.from(buf.subarray(start, end)));
  }

  #frameEnd() {
    this.inFrame = false;
    if (this.control) {
      const payload = Buffer.concat(this.control);
      this.control = null;
      this.onControl(this.opcode, payload);
      return;
    }
    if (!this.fin) return;
    const c = this.check;
    if (this.msgCompressed) {
      if (!c.inflate) { this.error = 'RSV1 message without permessage-deflate'; return; }
      if (this.chunks) {
        let inflated;
        try {
          inflated = zlib.inflateRawSync(Buffer.concat([...this.chunks, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
        } catch (err) {
          this.error = `echoed message ${this.msgIndex} does not inflate: ${err.message}`;
          return;
        }
        if (inflated.length !== c.length) { this.error = `inflated length ${inflated.length}, expected ${c.length}`; return; }
        if (sha1(inflated) !== c.sha1) { this.error = `inflated payload checksum mismatch on message ${this.msgIndex}`; return; }
        this.chunks = null;
      }
    } else {
      if (this.msgBytes !== c.length) { this.error = `echoed message ${this.msgIndex} has ${this.msgBytes} bytes, expected ${c.length}`; return; }
      if (this.hash) {
        if (this.hash.digest('hex') !== c.sha1) { this.error = `echoed payload checksum mismatch on message ${this.msgIndex}`; return; }
        this.hash = null;
      }
    }
    this.msgIndex++;
    this.onMessage(this);
  }
}

// All reads of all connections land in this one buffer (net's `onread`): no Buffer and no stream
// machinery per read. Every consumer handles the bytes synchronously and copies what it keeps.
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

/**
 * Opens one connection; resolves with `{ socket, rest, extensions, onBytes }` once it can carry
 * frames. The caller sets `onBytes(view)`: the view is only valid during the call.
 */
function open(job, path, extensionsOffer) {
  return new Promise((resolve, reject) => {
    const conn = { socket: null, rest: null, extensions: '', onBytes: () => {} };
    const socket = net.connect({
      host: job.host, port: job.port,
      onread: { buffer: READ_BUFFER, callback: (n, buf) => { conn.onBytes(buf.subarray(0, n)); } },
    });
    conn.socket = socket;
    socket.setNoDelay(true);
    let settled = false;
    const fail = (err) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(err);
    };
    socket.once('error', fail);
    if (job.mode === 'tcp') {
      socket.once('connect', () => {
        settled = true;
        socket.removeListener('error', fail);
        resolve(conn);
      });
      return;
    }
    const key = crypto.randomBytes(16).toString('base64');
    const accept = crypto.createHash('sha1').update(key + GUID).digest('base64');
    socket.once('connect', () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${job.host}:${job.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
        (extensionsOffer ? `Sec-WebSocket-Extensions: ${extensionsOffer}\r\n` : '') + '\r\n');
    });
    let head = Buffer.alloc(0);
    conn.onBytes = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 16384) fail(new Error('Handshake response longer than 16384 bytes'));
        return;
      }
      conn.onBytes = () => {};
      const lines = head.subarray(0, end).toString('latin1').split('\r\n');
      const status = lines[0];
      if (!/^HTTP\/1\.1 101 /.test(status)) return fail(new Error(`Handshake refused: ${status}`));
      const headers = {};
      for (const line of lines.slice(1)) {
        const c = line.indexOf(':');
        if (c > 0) headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
      }
      if (headers['sec-websocket-accept'] !== accept) return fail(new Error('Handshake: wrong Sec-WebSocket-Accept'));
      settled = true;
      socket.removeListener('error', fail);
      conn.rest = head.length > end + 4 ? head.subarray(end + 4) : null;
      conn.extensions = headers['sec-websocket-extensions'] ?? '';
      resolve(conn);
    };
  });
}

/** Opens `count` connections with at most `concurrency` handshakes in flight. */
export async function openMany(job, count, path, offer, concurrency = 200) {
  const conns = new Array(count);
  let next = 0;
  let firstError = null;
  const worker = async () => {
    while (next < count && !firstError) {
      const i = next++;
      try {
        conns[i] = await open(job, path, offer);
      } catch (err) {
        firstError ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  if (firstError) {
    for (const c of conns) c?.socket.destroy();
    if (firstError.code === 'EMFILE' || firstError.code === 'ENFILE') {
      throw new Error(`${firstError.code} while opening ${count} connections: raise the open-file limit (ulimit -n)`);
    }
    throw firstError;
  }
  return conns;
}

const DEFLATE_OFFER = 'permessage-deflate; client_no_context_takeover; server_no_context_takeover';

/** Builds the frame that every message of an echo job is, plus what its echo must look like. */
function prepare(job) {
  const text = !!job.text;
  const payload = makePayload(job.size, text);
  const key = crypto.randomBytes(4);
  let wire = payload;
  let rsv1 = false;
  if (job.deflate) {
    // No context takeover in either direction (negotiated above), so every message is compressed
    // on its own and the same compressed frame can be re-sent forever (RFC 7692 §7.2.1).
    const c = zlib.deflateRawSync(payload, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    wire = c.subarray(0, c.length - 4); // drop the trailing 00 00 ff ff (§7.2.1)
    rsv1 = true;
  }
  const { frame, headerSize } = buildFrame(wire, { opcode: text ? 1 : 2, rsv1, key });
  // In tcp mode the echo is the masked client frame itself, so check against the masked bytes.
  const echoed = job.mode === 'tcp' ? frame.subarray(headerSize) : payload;
  const sampleEvery = job.size >= 1 << 20 ? 32 : job.size >= 65536 ? 64 : 256; // about 3 % of the bytes or fewer
  const check = {
    length: job.mode === 'tcp' ? wire.length : payload.length,
    sha1: sha1(echoed),
    sampleEvery,
    inflate: !!job.deflate && job.mode !== 'tcp',
  };
  return { frame, check };
}

/** CPU time of this process since `start` (process.cpuUsage), as % of one core over `wallMs`. */
export function cpuPercent(start, wallMs) {
  const d = process.cpuUsage(start);
  return ((d.user + d.system) / 1000 / wallMs) * 100;
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Connections that each keep `job.window` echo messages in flight while `start()`ed: the whole
 * window is written as one buffer, then, after each chunk read, as many frames as messages were
 * echoed in that chunk (one write, a view of the same pre-masked buffer). `stop()` stops the
 * refills and resolves once every message in flight has come back (or the connection failed).
 */
async function openEchoDriver(job) {
  const { frame, check } = prepare(job);
  const window = job.window;
  const windowBuf = Buffer.allocUnsafe(frame.length * window);
  for (let k = 0; k < window; k++) frame.copy(windowBuf, k * frame.length);
  const conns = await openMany(job, job.connections, job.path ?? '/', job.deflate ? DEFLATE_OFFER : null);
  if (job.deflate && job.mode !== 'tcp') {
    for (const c of conns) if (!/permessage-deflate/.test(c.extensions)) throw new Error('Server did not negotiate permessage-deflate');
  }
  const fl = frame.length;
  // Refill when half the window has been echoed: one write of window/2 or more frames, so the
  // client's cost per message stays far below the server's whatever size the server's writes are.
  const refillAt = Math.max(1, Math.floor(window / 2));
  const driver = {
    total: 0,
    failure: null,
    running: false,
    inFlight: 0,
    drained: null,
    start() {
      driver.running = true;
      for (const c of conns) {
        c.socket.write(windowBuf);
        c.inFlight += window;
      }
      driver.inFlight += window * conns.length;
    },
    stop() {
      driver.running = false;
      if (driver.inFlight === 0 || driver.failure) return Promise.resolve();
      return new Promise((resolve) => { driver.drained = resolve; });
    },
    close() {
      driver.running = false;
      for (const c of conns) c.socket.destroy();
    },
  };
  const settle = () => {
    const d = driver.drained;
    if (d && (driver.inFlight === 0 || driver.failure)) { driver.drained = null; d(); }
  };
  const fail = (why) => { if (driver.running || driver.inFlight > 0) driver.failure ??= why; settle(); };
  for (const c of conns) {
    c.inFlight = 0;
    const parser = new EchoParser(check, () => { c.inFlight--; driver.inFlight--; driver.total++; }, (op, p) => {
      if (op === 8) driver.failure ??= `server sent close ${p.length >= 2 ? p.readUInt16BE(0) : ''}`;
      else if (op === 9) c.socket.write(buildFrame(p, { opcode: 10 }).frame);
    });
    const onData = (chunk) => {
      parser.push(chunk);
      if (parser.error) { fail(parser.error); driver.running = false; return; }
      if (driver.running && window - c.inFlight >= refillAt) {
        const n = window - c.inFlight;
        c.socket.write(n === window ? windowBuf : windowBuf.subarray(0, n * fl));
        c.inFlight = window;
        driver.inFlight += n;
      }
      settle();
    };
    c.onBytes = onData;
    c.socket.on('error', (err) => fail(err.message));
    c.socket.on('close', () => fail('server closed the connection'));
    if (c.rest) onData(c.rest);
  }
  return driver;
}

/** Echo with a window (see `openEchoDriver`) for the job's warm-up, then its measured duration. */
async function runEcho(job) {
  const driver = await openEchoDriver(job);
  driver.start();
  await sleep(job.warmupMs);
  const m0 = driver.total;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await sleep(job.durationMs);
  const m1 = driver.total;
  const wall = performance.now() - t0;
  const cpu = cpuPercent(cpu0, wall);
  const failure = driver.failure;
  driver.close();
  if (failure) throw new Error(failure);
  const msgs = m1 - m0;
  if (msgs === 0) throw new Error('No message echoed during the measurement');
  return { msgsPerSec: (msgs / wall) * 1000, mbPerSec: (msgs * job.size) / wall / 1000, messages: msgs, cpu };
}

/**
 * Echo in slots the runner calls (`npm run bench -- --interleaved`): answers `{ type: 'ready' }`
 * once connected; each `{ type: 'go' }` keeps the window full until `{ type: 'stop' }`, which is
 * answered with `{ type: 'stopped', messages, cpuUs }` once the messages in flight are back:
 * the messages echoed in that slot and this process's CPU time in it. `{ type: 'end' }` ends the
 * job. Between slots nothing is in flight, so the server is idle.
 */
async function runEchoSlots(job) {
  const driver = await openEchoDriver(job);
  let m0 = 0;
  let cpu0 = process.cpuUsage();
  return new Promise((resolve, reject) => {
    const onMsg = async (m) => {
      if (m?.type === 'go') {
        m0 = driver.total;
        cpu0 = process.cpuUsage();
        driver.start();
      } else if (m?.type === 'stop') {
        await driver.stop();
        const cpu = process.cpuUsage(cpu0);
        if (driver.failure) {
          process.off('message', onMsg);
          driver.close();
          reject(new Error(driver.failure));
          return;
        }
        process.send({ type: 'stopped', messages: driver.total - m0, cpuUs: cpu.user + cpu.system });
      } else if (m?.type === 'end') {
        process.off('message', onMsg);
        driver.close();
        resolve({ messages: driver.total });
      }
    };
    process.on('message', onMsg);
    process.send({ type: 'ready' });
  });
}

/** Ping-pong: one message in flight per connection; latency per message from send to echo. */
async function runPingPong(job) {
  const { frame, check } = prepare(job);
  const conns = await openMany(job, job.connections, job.path ?? '/', null);
  const hist = new Array(HIST_BUCKETS).fill(0);
  let measuring = false;
  let running = true;
  let total = 0;
  let failure = null;
  for (const c of conns) {
    let sentAt = 0;
    const parser = new EchoParser(check, () => {
      const now = performance.now();
      if (measuring) { total++; hist[histIndex((now - sentAt) * 1000)]++; }
      if (running) { sentAt = now; c.socket.write(frame); }
    }, (op) => { if (op === 8) failure ??= 'server sent close'; });
    c.onBytes = (chunk) => {
      parser.push(chunk);
      if (parser.error) { failure ??= parser.error; running = false; }
    };
    c.socket.on('error', (err) => { if (running) failure ??= err.message; });
    c.socket.on('close', () => { if (running) failure ??= 'server closed the connection'; });
    if (c.rest) parser.push(c.rest);
    c.start = () => { sentAt = performance.now(); c.socket.write(frame); };
  }
  for (const c of conns) c.start();
  await sleep(job.warmupMs);
  measuring = true;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await sleep(job.durationMs);
  measuring = false;
  const wall = performance.now() - t0;
  const cpu = cpuPercent(cpu0, wall);
  running = false;
  for (const c of conns) c.socket.destroy();
  if (failure) throw new Error(failure);
  if (total === 0) throw new Error('No message echoed during the measurement');
  return { msgsPerSec: (total / wall) * 1000, mbPerSec: (total * job.size) / wall / 1000, messages: total, cpu, hist };
}

/** Read and write system calls and bytes of a process so far (`/proc/<pid>/io`), or null. */
export function procIo(pid = 'self') {
  try {
    const t = fs.readFileSync(`/proc/${pid}/io`, 'utf8');
    const get = (k) => Number(new RegExp(`^${k}: (\\d+)`, 'm').exec(t)?.[1]);
    return { syscr: get('syscr'), syscw: get('syscw'), rchar: get('rchar'), wchar: get('wchar') };
  } catch {
    return null;
  }
}

function medianOf(xs) {
  const v = [...xs].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** Tells the runner where the measurement starts or ends and waits for its go (it reads the server's counters meanwhile). */
function mark(phase) {
  if (!process.send) return Promise.resolve();
  return new Promise((resolve) => {
    const onMsg = (m) => { if (m?.type === 'go' && m.phase === phase) { process.off('message', onMsg); resolve(); } };
    process.on('message', onMsg);
    process.send({ type: 'mark', phase });
  });
}

/**
 * Trickle: one connection, one message at a time, each a single masked frame whose bytes are
 * written in pieces of `job.piece` bytes, every piece its own `socket.write` (TCP_NODELAY, so
 * its own segment). The loop never lets node batch pieces: after each write it waits until the
 * kernel has taken it (libuv had to queue it: `writableLength > 0`), and after every
 * `job.yieldEvery` pieces it yields to the event loop (setImmediate), which is also when the
 * echo is read. With `job.pieceGapUs` it also spins until that many µs have passed since the
 * previous piece: slower than the server's cost per read, every piece is a read of its own. Each message's time runs from its first piece written to its last byte echoed.
 * `job.warmupMessages` first, then `job.messages` measured ones between two marks (the runner
 * reads the server's CPU time and read/write system calls at each mark).
 */
async function runTrickle(job) {
  const { frame, check } = prepare(job);
  check.sampleEvery = 1; // every echo is checksummed: the bytes went through many small reads
  const pieces = [];
  for (let o = 0; o < frame.length; o += job.piece) pieces.push(frame.subarray(o, Math.min(frame.length, o + job.piece)));
  const yieldEvery = Math.max(1, job.yieldEvery ?? 1);
  const gapMs = (job.pieceGapUs ?? 0) / 1000;
  const [c] = await openMany(job, 1, job.path ?? '/', null);
  const socket = c.socket;
  let failure = null;
  let echoed = 0;
  let wake = null; // resolves the wait for the current message's echo
  let written = null; // resolves the wait for a queued piece (see onWritten)
  const fail = (why) => { failure ??= why; wake?.(); written?.(); };
  const parser = new EchoParser(check, () => { echoed++; wake?.(); }, (op, p) => {
    if (op === 8) fail(`server sent close ${p.length >= 2 ? p.readUInt16BE(0) : ''}`);
    else if (op === 9) socket.write(buildFrame(p, { opcode: 10 }).frame);
  });
  c.onBytes = (chunk) => { parser.push(chunk); if (parser.error) fail(parser.error); };
  socket.on('error', (err) => fail(err.message));
  socket.on('close', () => fail('server closed the connection'));
  if (c.rest) c.onBytes(c.rest);
  // A write libuv could not finish at once: wait for its callback before the next piece, so
  // that pieces are never gathered into one writev.
  const onWritten = () => { if (written && socket.writableLength === 0) { const w = written; written = null; w(); } };
  const immediate = () => new Promise((r) => setImmediate(r));
  const pieceWrites = { pieces: 0, queued: 0 };

  const sendOne = async () => {
    const want = echoed + 1;
    const t0 = performance.now();
    let due = t0;
    for (let i = 0; i < pieces.length && !failure; i++) {
      if (gapMs > 0) {
        // Paced: at least gapMs between two pieces (spinning: timers are far too coarse).
        let now = performance.now();
        while (now < due) now = performance.now();
        due = now + gapMs;
      }
      socket.write(pieces[i], onWritten);
      pieceWrites.pieces++;
      if (socket.writableLength > 0) {
        pieceWrites.queued++;
        await new Promise((r) => { written = r; });
      } else if ((i + 1) % yieldEvery === 0) {
        await immediate();
      }
    }
    if (echoed < want && !failure) {
      const timer = setTimeout(() => fail(`no echo within ${job.timeoutMs} ms`), job.timeoutMs);
      await new Promise((r) => { wake = () => { if (echoed >= want || failure) r(); }; });
      wake = null;
      clearTimeout(timer);
    }
    if (failure) throw new Error(failure);
    return performance.now() - t0;
  };

  for (let m = 0; m < job.warmupMessages; m++) await sendOne();
  await mark('start');
  const io0 = procIo();
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  const times = [];
  for (let m = 0; m < job.messages; m++) times.push(await sendOne());
  const wall = performance.now() - w0;
  const cpu = cpuPercent(cpu0, wall);
  const io1 = procIo();
  await mark('end');
  socket.destroy();
  const n = times.length;
  return {
    messages: n, times, wallMs: wall, cpu,
    msPerMsg: medianOf(times),
    mbPerSec: (n * job.size) / wall / 1000,
    clientWritesPerMsg: io0 && io1 ? (io1.syscw - io0.syscw) / n : NaN,
    piecesPerMsg: pieces.length,
    queuedPieces: pieceWrites.queued,
  };
}

/**
 * One message of `job.totalBytes` bytes as a single frame (64-bit length), its payload being
 * `job.chunkBytes` of pattern repeated; the server answers with the SHA-256 hex of the payload.
 */
async function runBig(job) {
  const chunk = makePatternChunk(job.chunkBytes);
  const key = crypto.randomBytes(4);
  const masked = Buffer.allocUnsafe(chunk.length);
  for (let i = 0; i < chunk.length; i++) masked[i] = chunk[i] ^ key[i & 3]; // chunkBytes % 4 === 0: same mask phase every time
  const h = Buffer.allocUnsafe(14);
  h[0] = 0x82; h[1] = 0x80 | 127;
  h.writeUInt32BE(Math.floor(job.totalBytes / 2 ** 32), 2);
  h.writeUInt32BE(job.totalBytes >>> 0, 6);
  key.copy(h, 10);
  const [c] = await openMany(job, 1, job.path ?? '/sha256', null);
  const socket = c.socket;
  let reply = '';
  let failure = null;
  const done = new Promise((resolve, reject) => {
    const parser = new EchoParser({ length: 64, sha1: '', sampleEvery: 0, inflate: false }, () => resolve(), (op, p) => {
      if (op === 8) reject(new Error(`server closed with ${p.length >= 2 ? p.readUInt16BE(0) : 'no code'} ${p.subarray(2).toString()}`));
    });
    // Capture the text of the reply: the parser counts it, this keeps its bytes.
    c.onBytes = (d) => {
      reply += d.toString('latin1');
      parser.push(d);
      if (parser.error) reject(new Error(`${parser.error}: ${JSON.stringify(reply.slice(0, 80))}`));
    };
    socket.on('error', (err) => reject(err));
    socket.on('close', () => reject(new Error('server closed the connection before replying')));
  });
  done.catch((err) => { failure ??= err; });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  socket.write(h);
  const reps = job.totalBytes / job.chunkBytes;
  for (let r = 0; r < reps && !failure; r++) {
    if (!socket.write(masked)) {
      await new Promise((resolve) => {
        const go = () => { socket.off('drain', go); socket.off('close', go); resolve(); };
        socket.on('drain', go); socket.on('close', go);
      });
    }
  }
  const timeout = setTimeout(() => { failure ??= new Error(`no reply within ${job.timeoutMs} ms`); socket.destroy(); }, job.timeoutMs);
  try { await done; } catch (err) { failure ??= err; }
  clearTimeout(timeout);
  const wall = performance.now() - t0;
  const cpu = cpuPercent(cpu0, wall);
  socket.destroy();
  if (failure) throw failure;
  const digest = reply.slice(-64);
  if (digest !== job.expectedSha256) throw new Error(`digest mismatch: got ${digest}`);
  return { mbPerSec: job.totalBytes / wall / 1000, seconds: wall / 1000, cpu };
}

/** The pattern the big message repeats; run.mjs derives the expected digest from the same bytes. */
export function makePatternChunk(bytes) {
  const out = Buffer.allocUnsafe(bytes);
  // xorshift32, seeded: deterministic across processes, cheap to generate 64 MiB.
  let x = 2463534242;
  for (let i = 0; i < bytes; i += 4) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out.writeUInt32LE(x, i);
  }
  return out;
}

/** Idle: open N connections, tell the parent, hold them until told to close. */
async function runIdle(job) {
  const t0 = performance.now();
  const conns = await openMany(job, job.connections, job.path ?? '/', job.deflate ? DEFLATE_OFFER : null);
  if (job.deflate) {
    for (const c of conns) if (!/permessage-deflate/.test(c.extensions)) throw new Error('Server did not negotiate permessage-deflate');
  }
  let closedEarly = 0;
  for (const c of conns) {
    c.socket.on('close', () => { closedEarly++; });
    c.socket.on('error', () => {});
  }
  process.send({ type: 'ready', openMs: performance.now() - t0 });
  await new Promise((resolve) => {
    const onMsg = (m) => { if (m?.type === 'close') { process.off('message', onMsg); resolve(); } };
    process.on('message', onMsg);
  });
  const early = closedEarly;
  for (const c of conns) c.socket.destroy();
  if (early > 0) throw new Error(`${early} idle connections were closed by the server`);
  return { connections: conns.length };
}

/**
 * Broadcast: open N connections, then count the messages the server broadcasts to them, between
 * two marks (the runner reads the server's CPU time at each, and asks the server for
 * `job.rounds` broadcasts at the first). Every message's length is checked, a sample's SHA-1.
 */
async function runBroadcast(job) {
  const payload = jsonLike(job.size);
  const check = { length: payload.length, sha1: sha1(payload), sampleEvery: 16, inflate: false };
  const conns = await openMany(job, job.connections, '/', null);
  const expected = job.connections * job.rounds;
  let delivered = 0;
  let error = null;
  let closed = 0;
  let finish;
  const all = new Promise((resolve) => (finish = resolve));
  for (const c of conns) {
    const parser = new EchoParser(check, () => {
      if (++delivered === expected) finish();
    }, () => {});
    c.onBytes = (view) => {
      parser.push(view);
      if (parser.error && !error) {
        error = parser.error;
        finish();
      }
    };
    if (c.rest) c.onBytes(c.rest);
    c.socket.on('close', () => { closed++; });
    c.socket.on('error', () => {});
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await mark('start');
  const timer = setTimeout(finish, job.timeoutMs);
  await all;
  clearTimeout(timer);
  const wallMs = performance.now() - t0;
  const cpu = cpuPercent(cpu0, wallMs);
  await mark('end');
  const early = closed;
  for (const c of conns) c.socket.destroy();
  if (error) throw new Error(error);
  if (early > 0) throw new Error(`${early} connections were closed by the server`);
  if (delivered !== expected) throw new Error(`${delivered} of ${expected} broadcast messages arrived within ${job.timeoutMs} ms`);
  return { messages: delivered, wallMs, msgsPerSec: (delivered / wallMs) * 1000, cpu };
}

async function main(job) {
  switch (job.kind) {
    case 'echo': return runEcho(job);
    case 'echo-slots': return runEchoSlots(job);
    case 'pingpong': return runPingPong(job);
    case 'big': return runBig(job);
    case 'trickle': return runTrickle(job);
    case 'idle': return runIdle(job);
    case 'broadcast': return runBroadcast(job);
    default: throw new Error(`Unknown job kind ${job.kind}`);
  }
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain && process.send) {
  process.once('message', (m) => {
    if (m?.type !== 'job') return;
    main(m.job).then(
      (result) => process.send({ type: 'result', result }, () => process.exit(0)),
      (err) => process.send({ type: 'error', message: err?.message ?? String(err) }, () => process.exit(1)),
    );
  });
  process.on('disconnect', () => process.exit(0));
}
