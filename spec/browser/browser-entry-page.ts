// The page the browser-entry specs drive: it loads the bundled `websocket-streams/browser`
// (served at /browser.mjs) and offers one function per scenario on `window.scenarios`, each
// resolving with what the page observed (plain data, for the spec to compare). Plain JS in a
// string: what runs in Chromium must not depend on how ts-jest compiles the spec.
//
// `?impl=WebSocket` removes WebSocketStream before the library loads, as a browser without
// it (Firefox, Safari) is: connect() then takes the plain WebSocket path.

export const BROWSER_ENTRY_PAGE = `<!doctype html><meta charset="utf-8">
<script>if (new URLSearchParams(location.search).get('impl') === 'WebSocket') delete window.WebSocketStream;</script>
<script type="module">
const lib = await import('/browser.mjs');
const pattern = (seed, n) => { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = (i * 13 + seed) & 255; return b; };
// The same bytes as spec/browser/browser-entry.spec.ts's pattern().
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const errorOf = async (p) => { try { await p; return 'no error'; } catch (e) { return typeof e === 'object' ? { name: e.name, kind: e.kind, message: e.message } : { name: typeof e, message: String(e) }; } };
const info = (c) => c === undefined ? undefined : JSON.parse(JSON.stringify({ ...c, error: c.error === undefined ? undefined : c.error.name }));

window.state = { sendsResolved: 0, maxBuffered: 0 };
window.scenarios = {
  // Text and binary out and back; what came back compared here, what arrived compared by the spec.
  async echo(url, texts, sizes) {
    const conn = await lib.connect(url, { protocols: ['chat.v2', 'chat.v1'] });
    const got = [];
    for (const t of texts) {
      await conn.send(t);
      const m = await conn.nextMessage();
      got.push({ type: m.type, ok: (await m.text()) === t });
    }
    for (const n of sizes) {
      await conn.send(pattern(n, n));
      const m = await conn.nextMessage();
      got.push({ type: m.type, length: n, ok: same(await m.bytes(), pattern(n, n)) });
    }
    const opened = { implementation: conn.implementation, protocol: conn.protocol, extensions: conn.extensions, readyState: conn.readyState };
    const closed = await conn.close(4100, 'page done');
    return { opened, got, closed: info(closed), readyState: conn.readyState };
  },

  // A large binary message read through stream() chunk by chunk, then a text message's frames.
  async streamAndFrames(url, size) {
    const conn = await lib.connect(url);
    const big = await conn.nextMessage();
    const reader = big.stream().getReader();
    const chunks = [];
    let at = 0, ok = true;
    for (let r; !(r = await reader.read()).done;) {
      chunks.push(r.value.length);
      for (let i = 0; i < r.value.length; i++) if (r.value[i] !== (((at + i) * 13 + 7) & 255)) ok = false;
      at += r.value.length;
    }
    const again = await errorOf(big.bytes());
    const text = await conn.nextMessage();
    const frames = [];
    for await (const f of text.frames) frames.push({ fin: f.fin, rsv: f.rsv, opcode: f.opcode, length: f.length, text: new TextDecoder().decode(await f.bytes()) });
    // Asking for the next message discards the unread rest of this one: its stream errors.
    const third = await conn.nextMessage();
    const partial = third.stream().getReader();
    const first = (await partial.read()).value.length;
    const fourth = await conn.nextMessage();
    const discarded = await errorOf(partial.read());
    const last = await fourth.text();
    await conn.close(1000);
    return { type: big.type, total: at, ok, chunkCount: chunks.length, largestChunk: Math.max(...chunks), again, frames, first, discarded, last };
  },

  async json(url) {
    const conn = await lib.connect(url);
    const value = await (await conn.nextMessage()).json();
    const invalid = await errorOf((await conn.nextMessage()).json());
    const fromBinary = await (await conn.nextMessage()).json();
    await conn.send('still open');
    const closed = await conn.closed;
    return { value, invalid, fromBinary, closed: info(closed) };
  },

  // The server sends, then closes: the loop ends after the messages, closed says how.
  async serverCloses(url) {
    const conn = await lib.connect(url);
    const texts = [];
    for await (const m of conn) texts.push(await m.text());
    return { texts, closed: info(await conn.closed), readyState: conn.readyState };
  },

  async badCloses(url) {
    const conn = await lib.connect(url);
    const tries = [];
    for (const [code, reason] of [[1009, undefined], [1005, undefined], [2999, undefined], [4000, 'x'.repeat(124)], [undefined, 'a reason']]) {
      try { conn.close(code, reason); tries.push('no error'); } catch (e) { tries.push(e.name); }
    }
    const readyState = conn.readyState;
    const closed = await conn.close(1000);
    const sendAfter = await errorOf(conn.send('late'));
    return { tries, readyState, closed: info(closed), sendAfter };
  },

  async abortedConnect(url) {
    const ctl = new AbortController();
    ctl.abort(new Error('not now'));
    return errorOf(lib.connect(url, { signal: ctl.signal }));
  },
  startSlowConnect(url) {
    window.slowAbort = new AbortController();
    window.slowConnect = errorOf(lib.connect(url, { signal: window.slowAbort.signal }));
  },
  abortSlowConnect() {
    window.slowAbort.abort(new Error('gave up'));
    return window.slowConnect;
  },

  // Aborted waits: nextMessage (the next message stays), send of a stream (cancelled, nothing sent).
  async abortedWaits(url) {
    // connect()'s signal aborts the handshake only: aborted once open, it changes nothing.
    const openCtl = new AbortController();
    const conn = await lib.connect(url, { signal: openCtl.signal });
    openCtl.abort('too late');
    const waitCtl = new AbortController();
    const waiting = errorOf(conn.nextMessage({ signal: waitCtl.signal }));
    waitCtl.abort('stop waiting');
    const waitError = await waiting;
    await conn.send('ping');
    const answer = await (await conn.nextMessage()).text();
    let pulls = 0, cancelled, pulledThree;
    const three = new Promise((r) => (pulledThree = r));
    const source = new ReadableStream({
      pull(c) { pulls++; if (pulls <= 3) c.enqueue(new Uint8Array(10).fill(pulls)); else { pulledThree(); return new Promise(() => {}); } },
      cancel(reason) { cancelled = String(reason); },
    });
    const sendCtl = new AbortController();
    const sending = errorOf(conn.send(source, { signal: sendCtl.signal }));
    await three;
    sendCtl.abort('enough');
    const sendError = await sending;
    await conn.send('after');
    const readyState = conn.readyState;
    const closed = await conn.close(1000);
    return { waitError, answer, sendError, cancelled, readyState, closed: info(closed) };
  },

  // Sends count messages of size bytes as fast as send() lets it; the spec's server reads slowly.
  async sendMany(url, count, size, options) {
    const conn = await lib.connect(url, options);
    window.state = { sendsResolved: 0, maxBuffered: 0 };
    for (let i = 0; i < count; i++) {
      await conn.send(pattern(i, size));
      window.state.sendsResolved = i + 1;
      window.state.maxBuffered = Math.max(window.state.maxBuffered, conn.bufferedAmount);
    }
    const closed = await conn.close(1000);
    return { implementation: conn.implementation, ...window.state, closed: info(closed) };
  },

  // Reads count messages, asking the spec's server after each how many of its sends resolved.
  async readSlowly(url, count, size) {
    const conn = await lib.connect(url);
    const leads = [];
    let ok = true;
    for (let k = 0; k < count; k++) {
      const m = await conn.nextMessage();
      leads.push((await window.serverSendsResolved()) - k);
      if (!same(await m.bytes(), pattern(k, size))) ok = false;
    }
    const closed = await conn.close(1000);
    return { implementation: conn.implementation, leads, ok, closed: info(closed) };
  },

  // Reads nothing: what the connection does when messages pile up.
  async readNothing(url, options) {
    const conn = await lib.connect(url, options);
    const closed = info(await conn.closed);
    return { implementation: conn.implementation, closed, next: await conn.nextMessage() === undefined };
  },

  // Asks for one message (refused if over maxMessageSize), then waits for the end.
  async readOne(url, options) {
    const conn = await lib.connect(url, options);
    const next = await conn.nextMessage();
    return { implementation: conn.implementation, next: next === undefined, closed: info(await conn.closed) };
  },

  // A stream over maxMessageSize is refused (cancelled, nothing sent); the connection goes on.
  async sendTooBig(url, limit) {
    const conn = await lib.connect(url, { maxMessageSize: limit });
    let cancelled;
    let n = 0;
    const source = new ReadableStream({
      pull(c) { c.enqueue(new Uint8Array(64 * 1024)); if (++n > 1000) c.close(); },
      cancel(reason) { cancelled = reason?.name; },
    });
    const tooBig = await errorOf(conn.send(source));
    const tooBigBlob = await errorOf(conn.send(new Blob([new Uint8Array(limit + 1)])));
    await conn.send(new Blob([pattern(3, limit)]));
    await conn.send({ type: 'text', data: new TextEncoder().encode('typed text') });
    const closed = await conn.close(1000);
    return { tooBig, cancelled, tooBigBlob, closed: info(closed) };
  },

  async refused(url) {
    return errorOf(lib.connect(url));
  },

  // Aborting writable fails the connection: 1011 here, 4011 on the wire.
  async abortWritable(url) {
    const conn = await lib.connect(url);
    const writer = conn.writable.getWriter();
    await writer.write('before');
    await writer.abort(new Error('stop'));
    return info(await conn.closed);
  },

  // readable piped into writable: an echo client.
  async pipeEcho(url) {
    const conn = await lib.connect(url);
    await conn.readable.pipeTo(conn.writable);
    return { closed: info(await conn.closed), readyState: conn.readyState };
  },
};
window.ready = true;
</script>`;
