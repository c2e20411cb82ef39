// The WebSocketStream scenarios, run twice with the same code: in headless Chromium against its
// native WebSocketStream, and in Node against ours (spec/browser/websocket-stream-vs-chromium.spec.ts).
// `runScenario` is sent to the page as source text (Function.prototype.toString), so it must be
// self-contained: no imports, no helper outside its body. Each scenario returns what it
// observed as plain JSON (chunks and their types, opened fields, closed values, errors by name,
// closeCode and reason, how each promise settled), to be compared between the two runs.

/** The two classes under test, and where the scenario server is. */
export interface ScenarioEnv {
  readonly WebSocketStream: new (url: string, options?: { protocols?: unknown; signal?: AbortSignal }) => ScenarioSocket;
  readonly WebSocketError: new (message?: string, init?: { closeCode?: number; reason?: string }) => Error;
  /** `ws://127.0.0.1:port` of the scenario server. */
  readonly base: string;
  /** `'chromium'` or `'node'`: sent as `?run=` so the server keeps each run's records apart. */
  readonly run: string;
}

/** The part of WebSocketStream the scenarios use. */
export interface ScenarioSocket {
  readonly url: string;
  readonly opened: Promise<{ readable: ReadableStream<unknown>; writable: WritableStream<unknown>; extensions: string; protocol: string }>;
  readonly closed: Promise<{ closeCode?: number; reason?: string }>;
  close(info?: unknown): void;
}

/** Every scenario `runScenario` knows, by name (also the server path it uses, if any). */
export const SCENARIOS = [
  'echo-types', 'writes-are-copied', 'text-conversion', 'opened-fields', 'url-normalised', 'constructor-errors',
  'close-code-validation', 'close-reason-only', 'close-empty', 'close-writable', 'cancel-readable-with-error',
  'cancel-readable-plain', 'abort-writable-with-error', 'cancel-with-unsendable-code', 'websocket-error-constructor',
  'server-closes', 'server-drops', 'handshake-refused', 'abort-before-open', 'abort-during-handshake', 'abort-after-open',
  'close-during-handshake', 'write-after-close', 'many-large-messages',
] as const;

/** Runs scenario `name` with `env` and returns what it observed (JSON). */
export async function runScenario(name: string, env: ScenarioEnv): Promise<unknown> {
  const { WebSocketStream, WebSocketError } = env;
  const url = (path: string): string => `${env.base}/${path}?run=${env.run}&s=${name}`;
  const bytesOf = (v: ArrayBufferView): number[] => Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));

  /** A value as JSON that says what it is. */
  const describe = (v: unknown): unknown => {
    if (v === undefined) return { type: 'undefined' };
    if (typeof v === 'string') return { type: 'string', value: v };
    if (v instanceof Uint8Array) {
      // Whether the chunk owns its whole buffer (`chunk.buffer` gives the message back).
      const own = v.byteOffset === 0 && v.buffer.byteLength === v.byteLength && Object.getPrototypeOf(v) === Uint8Array.prototype;
      return v.byteLength <= 64 ? { type: 'Uint8Array', bytes: bytesOf(v), own } : { type: 'Uint8Array', length: v.byteLength, own };
    }
    if (v instanceof ArrayBuffer) return { type: 'ArrayBuffer', bytes: bytesOf(new Uint8Array(v)) };
    if (v instanceof Error || (typeof DOMException === 'function' && v instanceof DOMException)) {
      const e = v as Error & { closeCode?: unknown; reason?: unknown };
      const out: Record<string, unknown> = { type: 'error', name: e.name, isWebSocketError: v instanceof WebSocketError };
      if ('closeCode' in e) out.closeCode = e.closeCode;
      if ('reason' in e) out.reason = e.reason;
      return out;
    }
    if (typeof v === 'object' && v !== null) {
      const o = v as Record<string, unknown>;
      return { type: 'object', value: Object.fromEntries(Object.keys(o).sort().map((k) => [k, describe(o[k])])) };
    }
    return { type: typeof v, value: String(v) };
  };
  /** How a promise settled, and with what. */
  const settle = async (p: Promise<unknown>): Promise<unknown> => {
    try {
      return { fulfilled: describe(await p) };
    } catch (err) {
      return { rejected: describe(err) };
    }
  };
  /** What calling `fn` threw, or that it returned. */
  const attempt = (fn: () => unknown): unknown => {
    try {
      fn();
      return 'returned';
    } catch (err) {
      return describe(err);
    }
  };
  const readAll = async (readable: ReadableStream<unknown>): Promise<unknown[]> => {
    const out: unknown[] = [];
    const reader = readable.getReader();
    for (;;) {
      const r = await reader.read().then((x) => x, (err: unknown) => ({ done: true, error: err }));
      if ('error' in r) {
        out.push({ readRejected: describe(r.error) });
        break;
      }
      if (r.done) break;
      out.push(describe(r.value));
    }
    return out;
  };
  const readN = async (readable: ReadableStream<unknown>, n: number): Promise<unknown[]> => {
    const reader = readable.getReader();
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) out.push(describe((await reader.read()).value));
    reader.releaseLock();
    return out;
  };

  switch (name) {
    case 'echo-types': {
      // The writable takes strings, ArrayBuffers and views; the readable yields strings and Uint8Arrays.
      const wss = new WebSocketStream(url('echo'));
      const { readable, writable } = await wss.opened;
      const writer = writable.getWriter();
      const data = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]);
      const writes = ['hello', 'héllo 🎉', '', data, data.buffer, new DataView(data.buffer, 2, 3), new Uint16Array([0x0102, 0x0304]), new Uint8Array(0)];
      const written = await Promise.all(writes.map((w) => settle(writer.write(w))));
      const read = await readN(readable, writes.length);
      wss.close({ closeCode: 4000, reason: 'bye' });
      return { written, read, closed: await settle(wss.closed) };
    }
    case 'writes-are-copied': {
      // A BufferSource is copied when written: changing it afterwards changes nothing sent.
      const wss = new WebSocketStream(url('echo'));
      const { readable, writable } = await wss.opened;
      const writer = writable.getWriter();
      const data = new Uint8Array([1, 2, 3]);
      const p = writer.write(data);
      data[0] = 99;
      await p;
      const read = await readN(readable, 1);
      wss.close();
      return { read, closed: await settle(wss.closed) };
    }
    case 'text-conversion': {
      // Anything that is not a BufferSource is converted to a string (USVString: a lone
      // surrogate becomes U+FFFD); a Symbol rejects the write and errors the writable.
      const wss = new WebSocketStream(url('echo'));
      const { readable, writable } = await wss.opened;
      const writer = writable.getWriter();
      const writes: unknown[] = [42, null, { toString: () => 'custom' }, 'lone \uD800 surrogate', true];
      const written = await Promise.all(writes.map((w) => settle(writer.write(w))));
      const read = await readN(readable, writes.length);
      const symbol = await settle(writer.write(Symbol('s')));
      const afterSymbol = await settle(writer.write('x'));
      wss.close();
      return { written, read, symbol, afterSymbol, closed: await settle(wss.closed) };
    }
    case 'opened-fields': {
      const wss = new WebSocketStream(url('protocols'), { protocols: ['chat.v2', 'chat.v1'] });
      const info = await wss.opened;
      const fields = {
        keys: Object.keys(info).sort(),
        protocol: info.protocol,
        extensions: info.extensions,
        readable: info.readable instanceof ReadableStream,
        writable: info.writable instanceof WritableStream,
        again: (await wss.opened) === info,
      };
      wss.close({ closeCode: 1000 });
      return { fields, closed: await settle(wss.closed) };
    }
    case 'url-normalised': {
      const http = env.base.replace(/^ws:/, 'http:');
      const wss = new WebSocketStream(`${http}/echo?run=${env.run}&s=${name}`);
      const seen = wss.url;
      await wss.opened;
      wss.close();
      return { url: seen.replace(env.base, 'BASE').replace(env.run, 'RUN'), closed: await settle(wss.closed) };
    }
    case 'constructor-errors': {
      const tries: Record<string, unknown> = {
        unparsable: attempt(() => new WebSocketStream('http://[')),
        ftp: attempt(() => new WebSocketStream('ftp://127.0.0.1/')),
        fragment: attempt(() => new WebSocketStream(`${env.base}/echo#frag`)),
        emptyFragment: attempt(() => new WebSocketStream(`${env.base}/echo#`)),
        duplicateProtocols: attempt(() => new WebSocketStream(url('echo'), { protocols: ['a', 'a'] })),
        badProtocol: attempt(() => new WebSocketStream(url('echo'), { protocols: ['a b'] })),
        emptyProtocol: attempt(() => new WebSocketStream(url('echo'), { protocols: [''] })),
        protocolsString: attempt(() => new WebSocketStream(url('echo'), { protocols: 'chat' })),
      };
      return tries;
    }
    case 'close-code-validation': {
      const wss = new WebSocketStream(url('echo'));
      await wss.opened;
      const tries: Record<string, unknown> = {};
      for (const code of [999, 1001, 1005, 1006, 2999, 5000]) tries[`code ${code}`] = attempt(() => wss.close({ closeCode: code }));
      tries['code 65536'] = attempt(() => wss.close({ closeCode: 65536 }));
      tries['code NaN'] = attempt(() => wss.close({ closeCode: NaN }));
      tries['reason 124 bytes'] = attempt(() => wss.close({ reason: '.'.repeat(124) }));
      tries['reason 62 × é (124 bytes)'] = attempt(() => wss.close({ reason: 'é'.repeat(62) }));
      tries['bad code and long reason'] = attempt(() => wss.close({ closeCode: 1001, reason: '.'.repeat(124) }));
      tries['close(true)'] = attempt(() => wss.close(true));
      // Code 3000.9 is truncated to 3000 (WebIDL unsigned short); 123 bytes are allowed.
      tries.valid = attempt(() => wss.close({ closeCode: 3000.9, reason: 'é'.repeat(61) + '.' }));
      tries.again = attempt(() => wss.close({ closeCode: 4999 }));
      return { tries, closed: await settle(wss.closed) };
    }
    case 'close-reason-only': {
      const wss = new WebSocketStream(url('echo'));
      await wss.opened;
      wss.close({ reason: 'only a reason' });
      return { closed: await settle(wss.closed) };
    }
    case 'close-empty': {
      // No code, an empty reason: an empty close frame, which the peer reads as 1005.
      const wss = new WebSocketStream(url('echo'));
      await wss.opened;
      wss.close({ reason: '' });
      return { closed: await settle(wss.closed) };
    }
    case 'close-writable': {
      // To a server that answers nothing: it receives 'last', then an empty close frame.
      const wss = new WebSocketStream(url('sink'));
      const { readable, writable } = await wss.opened;
      const writer = writable.getWriter();
      await writer.write('last');
      const closing = settle(writer.close());
      return { read: await readAll(readable), writerClose: await closing, closed: await settle(wss.closed) };
    }
    case 'cancel-readable-with-error': {
      const wss = new WebSocketStream(url('echo'));
      const { readable } = await wss.opened;
      const cancelled = await settle(readable.cancel(new WebSocketError('done', { closeCode: 4002, reason: 'cancelled' })));
      return { cancelled, closed: await settle(wss.closed) };
    }
    case 'cancel-readable-plain': {
      // A reason that is not a WebSocketError carries no code: the close frame is empty.
      const wss = new WebSocketStream(url('echo'));
      const { readable } = await wss.opened;
      await readable.cancel({ closeCode: 3456, reason: 'ignored' });
      return { closed: await settle(wss.closed) };
    }
    case 'abort-writable-with-error': {
      const wss = new WebSocketStream(url('echo'));
      const { readable, writable } = await wss.opened;
      const aborted = await settle(writable.abort(new WebSocketError('', { reason: 'aborted' })));
      return { aborted, read: await readAll(readable), closed: await settle(wss.closed) };
    }
    case 'cancel-with-unsendable-code': {
      // A WebSocketError with a code JavaScript may not send (1006, from `closed` of a stream
      // whose server dropped TCP) closes with an empty close frame instead.
      const first = new WebSocketStream(url('send-then-drop'));
      await first.opened;
      const error = await first.closed.then(() => undefined, (err: unknown) => err);
      const wss = new WebSocketStream(url('echo'));
      const { readable } = await wss.opened;
      const cancelled = await settle(readable.cancel(error));
      // Where cancel() threw instead (Chromium 156), nothing closed the connection yet.
      wss.close();
      return { error: describe(error), cancelled, closed: await settle(wss.closed) };
    }
    case 'websocket-error-constructor': {
      const made = (f: () => Error): unknown => {
        try {
          const e = f();
          return { ...(describe(e) as object), message: e.message };
        } catch (err) {
          return describe(err);
        }
      };
      return {
        none: made(() => new WebSocketError()),
        message: made(() => new WebSocketError('m')),
        reasonOnly: made(() => new WebSocketError('m', { reason: 'r' })),
        codeAndReason: made(() => new WebSocketError('m', { closeCode: 3001, reason: 'r' })),
        code1000: made(() => new WebSocketError('m', { closeCode: 1000 })),
        code1001: made(() => new WebSocketError('m', { closeCode: 1001 })),
        code70000: made(() => new WebSocketError('m', { closeCode: 70000 })),
        longReason: made(() => new WebSocketError('m', { closeCode: 3000, reason: 'x'.repeat(124) })),
      };
    }
    case 'server-closes': {
      // The server sends two messages and closes 4001; they stay readable after `closed`.
      const wss = new WebSocketStream(url('send-then-close'));
      const { readable, writable } = await wss.opened;
      const closed = await settle(wss.closed);
      const writer = writable.getWriter();
      const write = await settle(writer.write('too late'));
      return { closed, read: await readAll(readable), write, writerClosed: await settle(writer.closed) };
    }
    case 'server-drops': {
      // The server sends a message, then ends TCP without a close frame: 1006, not clean.
      const wss = new WebSocketStream(url('send-then-drop'));
      const { readable, writable } = await wss.opened;
      const closed = await settle(wss.closed);
      const writer = writable.getWriter();
      return { closed, read: await readAll(readable), write: await settle(writer.write('x')), writerClosed: await settle(writer.closed) };
    }
    case 'handshake-refused': {
      const wss = new WebSocketStream(url('refuse'));
      return { opened: await settle(wss.opened), closed: await settle(wss.closed) };
    }
    case 'abort-before-open': {
      const controller = new AbortController();
      controller.abort('stopped early');
      const wss = new WebSocketStream(url('echo'), { signal: controller.signal });
      return { opened: await settle(wss.opened), closed: await settle(wss.closed), close: attempt(() => wss.close()) };
    }
    case 'abort-during-handshake': {
      // Aborted in the same task as the constructor: the 101 cannot have come yet.
      const controller = new AbortController();
      const wss = new WebSocketStream(url('echo'), { signal: controller.signal });
      controller.abort(new WebSocketError('gave up', { closeCode: 4003 }));
      return { opened: await settle(wss.opened), closed: await settle(wss.closed) };
    }
    case 'abort-after-open': {
      // Once open, the signal does nothing.
      const controller = new AbortController();
      const wss = new WebSocketStream(url('echo'), { signal: controller.signal });
      const { readable, writable } = await wss.opened;
      controller.abort('too late');
      const writer = writable.getWriter();
      await writer.write('still open');
      const read = await readN(readable, 1);
      wss.close({ closeCode: 4004, reason: 'done' });
      return { read, closed: await settle(wss.closed) };
    }
    case 'close-during-handshake': {
      const wss = new WebSocketStream(url('echo'));
      const close = attempt(() => wss.close({ closeCode: 4005, reason: 'ignored' }));
      return { close, opened: await settle(wss.opened), closed: await settle(wss.closed) };
    }
    case 'write-after-close': {
      // Once the closing handshake started, writes are accepted and not sent (the server,
      // which answers nothing, receives 'before' only).
      const wss = new WebSocketStream(url('sink'));
      const { readable, writable } = await wss.opened;
      const writer = writable.getWriter();
      await writer.write('before');
      wss.close({ closeCode: 4006 });
      const write = await settle(writer.write('after'));
      return { write, read: await readAll(readable), closed: await settle(wss.closed), writerClosed: await settle(writer.closed) };
    }
    case 'many-large-messages': {
      // 16 messages of 1 MiB each way, through whatever buffering there is: all arrive, in
      // order, intact. The server's own checks (bytes, order) come back in its last message.
      const wss = new WebSocketStream(url('large'));
      const { readable, writable } = await wss.opened;
      const writer = writable.getWriter();
      const size = 1 << 20;
      // Written while reading: the server echoes, so a writer that waited for all its writes
      // before reading would stall both sides (which is what backpressure does).
      const writing = (async () => {
        for (let i = 0; i < 16; i++) {
          const m = new Uint8Array(size);
          for (let j = 0; j < size; j += 4096) m[j] = (i + j / 4096) & 255;
          await writer.write(m);
        }
      })();
      const reader = readable.getReader();
      const got: unknown[] = [];
      for (let i = 0; i < 17; i++) {
        const { value } = await reader.read();
        if (value instanceof Uint8Array || value instanceof ArrayBuffer) {
          const v = new Uint8Array(value);
          let ok = v.length === size;
          for (let j = 0; ok && j < size; j += 4096) ok = v[j] === ((i + j / 4096) & 255);
          got.push({ type: value instanceof Uint8Array ? 'Uint8Array' : 'ArrayBuffer', length: v.length, ok });
        } else {
          got.push(describe(value));
        }
      }
      await writing;
      reader.releaseLock();
      wss.close();
      return { got, closed: await settle(wss.closed) };
    }
    default:
      throw new Error(`No scenario ${name}`);
  }
}
