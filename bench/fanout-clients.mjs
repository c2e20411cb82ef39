// The clients of the fan-out scenario (bench/fanout.mjs), each role its own process, forked by
// the runner: raw sockets and the loadgen's parser (bench/loadgen.mjs), no WebSocket library.
//
//   subscribers  `connections` connections on /sub, spread in turn over the server ports; counts
//                every measured message on every connection, checks its length and that each
//                connection gets them in publishing order, and records its delivery latency
//   publisher    one connection on /pub to the first server; `warmupMessages` then
//                `measuredMessages` binary messages at `rate` per second, each carrying its send
//                time and sequence number
//
// Payload: bytes 0–7 the send time (process.hrtime in µs as a float64: CLOCK_MONOTONIC, the same
// clock in every process of the machine), 8–11 the sequence number, the rest filler. Messages
// before `firstMeasured` are warm-up: delivered, not counted.
//
// Protocol with the runner: `{ type: 'job', job }` in; subscribers answer `{ type: 'ready' }`
// once every connection is open, and both answer `{ type: 'result', result }` (or
// `{ type: 'error', message }`) at the end. The publisher sends `{ type: 'mark', phase: 'start' }`
// before its first measured message and waits for `{ type: 'go' }` (the runner reads the
// servers' CPU time meanwhile).
import crypto from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { EchoParser, HIST_BUCKETS, buildFrame, cpuPercent, histIndex, openMany } from './loadgen.mjs';

const HEAD = 12;
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

/** Subscribers: resolves once every connection has every measured message, or fails. */
async function runSubscribers(job) {
  const perPort = job.ports.map((_, p) => Math.floor(job.connections / job.ports.length) + (p < job.connections % job.ports.length ? 1 : 0));
  const groups = await Promise.all(job.ports.map((port, p) => openMany({ ...job, port }, perPort[p], '/sub', null)));
  const conns = groups.flat();
  const expected = conns.length * job.measuredMessages;
  const hist = new Array(HIST_BUCKETS).fill(0);
  let delivered = 0;
  let lastAtUs = 0;
  let failure = null;
  let finish;
  const all = new Promise((resolve) => (finish = resolve));
  const fail = (why) => { failure ??= why; finish(); };
  const check = { length: job.size, sha1: '', sampleEvery: 0, inflate: false, keepHead: HEAD };
  for (const c of conns) {
    let lastSeq = -1;
    const parser = new EchoParser(check, (p) => {
      const sentUs = p.head.readDoubleBE(0);
      const seq = p.head.readUInt32BE(8);
      if (seq <= lastSeq) return fail(`message ${seq} arrived after message ${lastSeq} on one connection`);
      lastSeq = seq;
      if (seq < job.firstMeasured) return;
      const at = nowUs();
      hist[histIndex(at - sentUs)]++;
      lastAtUs = at;
      if (++delivered === expected) finish();
    }, (op) => { if (op === 8) fail('a server closed a subscriber connection'); });
    c.onBytes = (view) => { parser.push(view); if (parser.error) fail(parser.error); };
    if (c.rest) c.onBytes(c.rest);
    c.socket.on('error', (err) => fail(err.message));
    c.socket.on('close', () => fail('a subscriber connection closed'));
  }
  process.send({ type: 'ready' });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const timer = setTimeout(() => fail(`${delivered} of ${expected} measured messages arrived within ${job.timeoutMs} ms`), job.timeoutMs);
  await all;
  clearTimeout(timer);
  const cpu = cpuPercent(cpu0, performance.now() - t0);
  const why = failure; // before the sockets are destroyed: their close events would set it
  for (const c of conns) c.socket.destroy();
  if (why) throw new Error(why);
  return { delivered, lastAtUs, hist, cpu, connections: conns.length };
}

/** Publisher: paced sends; resolves with when the first measured message left. */
async function runPublisher(job) {
  const [c] = await openMany({ ...job, port: job.ports[0] }, 1, '/pub', null);
  c.socket.on('error', () => {});
  const payload = Buffer.alloc(job.size, 0x61);
  const key = crypto.randomBytes(4);
  const total = job.warmupMessages + job.measuredMessages;
  const gapUs = 1e6 / job.rate;
  let firstMeasuredUs = NaN;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let due = nowUs();
  for (let seq = 0; seq < total; seq++) {
    if (seq === job.warmupMessages) {
      await mark('start');
      due = nowUs();
    }
    // Paced by a schedule, not by gaps: a late send is followed at once by the next one due.
    const wait = (due - nowUs()) / 1000;
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    due += gapUs;
    const sentUs = nowUs();
    if (seq === job.warmupMessages) firstMeasuredUs = sentUs;
    payload.writeDoubleBE(sentUs, 0);
    payload.writeUInt32BE(seq, 8);
    if (c.socket.destroyed) throw new Error('the server closed the publisher connection');
    c.socket.write(buildFrame(payload, { key }).frame);
  }
  const cpu = cpuPercent(cpu0, performance.now() - t0);
  return { firstMeasuredUs, cpu, close: () => c.socket.destroy() };
}

/** Tells the runner the measurement starts and waits for its go. */
function mark(phase) {
  return new Promise((resolve) => {
    const onMsg = (m) => { if (m?.type === 'go' && m.phase === phase) { process.off('message', onMsg); resolve(); } };
    process.on('message', onMsg);
    process.send({ type: 'mark', phase });
  });
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain && process.send) {
  process.once('message', async (m) => {
    if (m?.type !== 'job') return;
    try {
      let result;
      if (m.job.role === 'subscribers') result = await runSubscribers(m.job);
      else {
        // The publisher's connection stays open until the runner has every subscriber's result:
        // closing it could race the last messages still being published.
        const { close, ...r } = await runPublisher(m.job);
        result = r;
        process.on('message', (x) => { if (x?.type === 'close') close(); });
      }
      process.send({ type: 'result', result }, () => { if (m.job.role === 'subscribers') process.exit(0); });
    } catch (err) {
      process.send({ type: 'error', message: err?.message ?? String(err) }, () => process.exit(1));
    }
  });
  process.on('disconnect', () => process.exit(0));
}
