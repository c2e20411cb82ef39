// Run by spec/streams/ignored-waits.spec.ts in a process of its own (jest keeps the real
// 'unhandledRejection' to itself): pings and signal-taking waits whose promises nobody
// handles, each ending in a rejection. Prints one JSON line: the unhandled rejections by
// scenario (none expected) and how each promise settled when awaited after all.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { connectionPair } = require('./connection-pair') as typeof import('./connection-pair');
import { ReadableStream } from '../../lib/streams/stream-classes';
import { UnhandledRecorder } from './unhandled-recorder';

const recorder = new UnhandledRecorder();

const turns = async (n = 10): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

const settledAs = (p: Promise<unknown>): Promise<string> =>
  p.then(() => 'resolved', (e: unknown) => `rejected: ${(e as { kind?: string }).kind ?? (e as Error).message}`);

// Each scenario hands its promise back wrapped: an async function returning a promise would adopt it.
const scenarios: Record<string, () => Promise<{ p: Promise<unknown> }>> = {
  'ping() unanswered, then the connection closes': async () => {
    const { client, server } = connectionPair({ server: { autoPong: false } });
    const p = client.ping();
    await server.close(1000);
    return { p: p };
  },
  'ping() with a payload in flight': async () => {
    const { client } = connectionPair({ server: { autoPong: false } });
    void client.ping('x');
    return { p: client.ping('x') };
  },
  'send() aborted while queued': async () => {
    const { server } = connectionPair();
    const w = server.beginMessage('text');
    const ac = new AbortController();
    const p = server.send('queued', { signal: ac.signal });
    ac.abort(new Error('abort queued send'));
    await w.end();
    return { p: p };
  },
  'send() aborted mid-message': async () => {
    const { server } = connectionPair();
    const ac = new AbortController();
    let c!: ReadableStreamDefaultController<Uint8Array>;
    const p = server.send(new ReadableStream<Uint8Array>({ start: (x) => void (c = x) }), { signal: ac.signal });
    c.enqueue(new Uint8Array([1]));
    await turns(2);
    ac.abort(new Error('abort mid-message'));
    return { p: p };
  },
  'nextMessage() aborted': async () => {
    const { server } = connectionPair();
    const ac = new AbortController();
    const p = server.nextMessage({ signal: ac.signal });
    ac.abort(new Error('abort nextMessage'));
    return { p: p };
  },
  'close() aborted': async () => {
    const { server } = connectionPair();
    const ac = new AbortController();
    const p = server.close(1000, '', { signal: ac.signal });
    ac.abort(new Error('abort close wait'));
    return { p: p };
  },
};

void (async () => {
  const outcomes: Record<string, string> = {};
  for (const [name, run] of Object.entries(scenarios)) {
    recorder.current = name;
    const { p } = await run();
    await turns();
    outcomes[name] = await settledAs(p);
  }
  recorder.current = 'done';
  await turns();
  process.stdout.write(JSON.stringify({ unhandled: recorder.byScenario, outcomes }));
})();
