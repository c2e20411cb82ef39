import { createServer as createNetServer } from 'node:net';
import { WebSocketServer, type WebSocket as WsSocket } from 'ws';
import { HandshakeError } from '../../lib/handshake/errors';
import { reconnect, type RetryInfo } from '../../lib/node/reconnect';
import { WebSocketError } from '../../lib/streams/errors';
import { FakeClock } from '../helpers/fake-clock';
import { rawServer } from './node-helpers';

// `reconnect` against a ws server that refuses, drops and closes as each spec scripts it. The
// backoff runs on a fake clock: every wait is moved through as soon as it is set, so the
// delays asserted are those the clock was asked for, and the time each attempt reached the
// server is read on that clock.

/** What the server does with the n-th upgrade request (from 1). */
type Step = { refuse: number } | 'drop' | { close: number } | 'serve' | 'hold';

interface ScriptedServer {
  readonly url: string;
  /** Clock time at which each attempt reached the server. */
  readonly arrivals: number[];
  /** Close codes the server received from the client, per connection. */
  readonly closes: number[];
  readonly sockets: WsSocket[];
  close(): Promise<void>;
}

async function scriptedServer(clock: FakeClock, steps: readonly Step[]): Promise<ScriptedServer> {
  const arrivals: number[] = [];
  const closes: number[] = [];
  const sockets: WsSocket[] = [];
  const stepOf = (n: number): Step => steps[Math.min(n, steps.length) - 1];
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    verifyClient: (_info, done) => {
      arrivals.push(clock.now());
      const step = stepOf(arrivals.length);
      if (typeof step === 'object' && 'refuse' in step) done(false, step.refuse);
      else done(true);
    },
  });
  wss.on('connection', (ws) => {
    sockets.push(ws);
    ws.on('close', (code) => closes.push(code));
    const step = stepOf(arrivals.length);
    if (step === 'drop') ws.terminate();
    else if (typeof step === 'object' && 'close' in step) ws.close(step.close, 'scripted');
    else if (step === 'serve') {
      ws.send('hello');
      ws.close(1000, 'done');
    }
  });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const port = (wss.address() as { port: number }).port;
  return {
    url: `ws://127.0.0.1:${port}/feed`,
    arrivals,
    closes,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}

/** Options that make backoff exact: no jitter, and every wait moved through on `clock` once it is set. */
function driven(clock: FakeClock, retries: RetryInfo[]) {
  return {
    clock,
    initialDelay: 100,
    factor: 2,
    maxDelay: 1000,
    random: () => 1,
    onRetry: (retry: RetryInfo): void => {
      retries.push(retry);
      // The wait is set right after onRetry returns; a microtask later it is there to move through.
      void Promise.resolve().then(() => clock.advance(retry.delay));
    },
  };
}

const summary = (r: RetryInfo): [number, number, number | string] => [r.attempt, r.delay, r.error ? `status ${r.error.status}` : r.close!.code];

describe('reconnect', () => {
  it('retries a 503, a dropped connection and a 1012, with delays 100, 200, 400, and ends on a clean close', async () => {
    const clock = new FakeClock();
    const server = await scriptedServer(clock, [{ refuse: 503 }, 'drop', { close: 1012 }, 'serve']);
    const retries: RetryInfo[] = [];
    const seen: Array<[number, number]> = [];
    const texts: string[] = [];
    try {
      const connections = reconnect(server.url, driven(clock, retries));
      for await (const conn of connections) {
        for await (const msg of conn) texts.push(await msg.text());
        seen.push([connections.attempts, (await conn.closed).code]);
      }
      expect(retries.map(summary)).toEqual([[1, 100, 'status 503'], [2, 200, 1006], [3, 400, 1012]]);
      expect(server.arrivals).toEqual([0, 100, 300, 700]);
      expect(seen).toEqual([[2, 1006], [3, 1012], [4, 1000]]);
      expect(texts).toEqual(['hello']);
    } finally {
      await server.close();
    }
  });

  it('refuses a malformed URL and bad backoff options at once', () => {
    expect(() => reconnect('ftp://127.0.0.1/')).toThrow(SyntaxError);
    expect(() => reconnect('ws://127.0.0.1/', { factor: 0.5 })).toThrow(RangeError);
    expect(() => reconnect('ws://127.0.0.1/', { maxAttempts: 0 })).toThrow(RangeError);
  });

  it('throws the 403 refusal at once: no retry, no wait', async () => {
    const clock = new FakeClock();
    const server = await scriptedServer(clock, [{ refuse: 403 }, 'serve']);
    const retries: RetryInfo[] = [];
    try {
      const connections = reconnect(server.url, driven(clock, retries));
      const first = connections.next();
      await expect(first).rejects.toBeInstanceOf(HandshakeError);
      await expect(first).rejects.toMatchObject({ kind: 'UNEXPECTED_STATUS', status: 403 });
      expect(server.arrivals).toEqual([0]);
      expect(retries).toEqual([]);
      expect(clock.scheduled).toBe(1); // the handshake timer, cleared: no wait was set
      expect(clock.pending).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('starts the backoff over after a connection that stayed up resetAfter ms', async () => {
    const clock = new FakeClock();
    const server = await scriptedServer(clock, [{ refuse: 503 }, 'hold', 'serve']);
    const retries: RetryInfo[] = [];
    try {
      let n = 0;
      for await (const conn of reconnect(server.url, { ...driven(clock, retries), resetAfter: 5000 })) {
        if (++n === 1) {
          clock.advance(5000);
          server.sockets[0].terminate();
        }
        // Read to the end: the server's close frame comes after its message.
        for await (const msg of conn) await msg.bytes();
      }
      // Without the reset the wait after the drop would be 200 (the second failure in a row).
      expect(retries.map(summary)).toEqual([[1, 100, 'status 503'], [2, 100, 1006]]);
      expect(server.arrivals).toEqual([0, 100, 5200]);
    } finally {
      await server.close();
    }
  });

  it('retries ECONNREFUSED with jitter and gives up after maxAttempts with the last HandshakeError', async () => {
    const clock = new FakeClock();
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    const retries: RetryInfo[] = [];
    const connections = reconnect(`ws://127.0.0.1:${port}/`, { ...driven(clock, retries), random: () => 0, maxAttempts: 3 });
    const err = await connections.next().then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ name: 'HandshakeError', kind: 'CONNECTION_FAILED' });
    expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    // random() = 0: each wait is half its delay (equal jitter).
    expect(retries.map((r) => [r.attempt, r.delay])).toEqual([[1, 50], [2, 100]]);
    expect(connections.attempts).toBe(3);
  });

  it('retries a handshake that timed out (handshakeTimeout on the same clock)', async () => {
    const clock = new FakeClock();
    const arrivals: number[] = [];
    // Takes the request and never answers; the handshake timer is moved through once it is in.
    const silent = await rawServer(() => {
      arrivals.push(clock.now());
      void Promise.resolve().then(() => clock.advance(1000));
    });
    const retries: RetryInfo[] = [];
    try {
      const connections = reconnect(`ws://127.0.0.1:${silent.port}/`, { ...driven(clock, retries), handshakeTimeout: 1000, maxAttempts: 2 });
      await expect(connections.next()).rejects.toMatchObject({ name: 'HandshakeError', kind: 'TIMEOUT' });
      expect(retries.map((r) => [r.attempt, r.delay, r.error?.kind])).toEqual([[1, 100, 'TIMEOUT']]);
      // 0: request, timed out at 1000; wait 100; 1100: request, timed out at 2100, and the second attempt was the last.
      expect(arrivals).toEqual([0, 1100]);
      expect(clock.now()).toBe(2100);
    } finally {
      await silent.close();
    }
  });

  it('gives up with a CONNECTION_LOST WebSocketError when the next wait would pass maxElapsed', async () => {
    const clock = new FakeClock();
    const server = await scriptedServer(clock, ['drop']);
    const retries: RetryInfo[] = [];
    try {
      const codes: number[] = [];
      const run = (async () => {
        for await (const conn of reconnect(server.url, { ...driven(clock, retries), maxElapsed: 250 })) codes.push((await conn.closed).code);
      })();
      const err = await run.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(WebSocketError);
      expect(err).toMatchObject({ kind: 'CONNECTION_LOST', closeCode: 1006 });
      // 0: drop, wait 100; 100: drop, and 100 + 200 > 250.
      expect(server.arrivals).toEqual([0, 100]);
      expect(codes).toEqual([1006, 1006]);
    } finally {
      await server.close();
    }
  });

  it('closes the connection with 1000 on break, and aborting a wait throws ABORTED', async () => {
    const clock = new FakeClock();
    const server = await scriptedServer(clock, ['hold', { refuse: 503 }]);
    try {
      for await (const conn of reconnect(server.url, { clock })) {
        expect(conn.readyState).toBe(1);
        break;
      }
      await new Promise<void>((resolve) => (server.closes.length > 0 ? resolve() : server.sockets[0].once('close', () => resolve())));
      expect(server.closes).toEqual([1000]);

      const controller = new AbortController();
      const retries: RetryInfo[] = [];
      const connections = reconnect(server.url, {
        clock,
        random: () => 1,
        signal: controller.signal,
        onRetry: (r) => {
          retries.push(r);
          void Promise.resolve().then(() => controller.abort());
        },
      });
      await expect(connections.next()).rejects.toMatchObject({ name: 'HandshakeError', kind: 'ABORTED' });
      // The default initialDelay: 1000 ms.
      expect(retries.map(summary)).toEqual([[1, 1000, 'status 503']]);
      expect(clock.pending).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('aborting while connected closes the connection with 1001 and ends the loop with ABORTED', async () => {
    const clock = new FakeClock();
    const server = await scriptedServer(clock, ['hold']);
    const controller = new AbortController();
    try {
      let bodies = 0;
      const run = (async () => {
        for await (const conn of reconnect(server.url, { clock, signal: controller.signal })) {
          bodies++;
          controller.abort(new Error('shutting down'));
          expect((await conn.closed).code).toBe(1001);
        }
      })();
      const err = await run.then(() => undefined, (e: unknown) => e);
      expect(err).toMatchObject({ name: 'HandshakeError', kind: 'ABORTED', cause: new Error('shutting down') });
      expect(bodies).toBe(1);
      await new Promise<void>((resolve) => (server.closes.length > 0 ? resolve() : server.sockets[0].once('close', () => resolve())));
      expect(server.closes).toEqual([1001]);
      expect(server.arrivals).toEqual([0]);
    } finally {
      await server.close();
    }
  });
});
