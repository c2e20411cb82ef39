import type { Browser, Page } from 'playwright-core';
import { WebSocketStream } from '../../lib/node/websocket-stream';
import { WebSocketError } from '../../lib/streams/errors';
import { runScenario, SCENARIOS, type ScenarioEnv } from '../helpers/websocket-stream-scenarios';
import { startScenarioServer, type ScenarioServer } from '../helpers/websocket-stream-scenario-server';
import { launchChromium } from '../helpers/chromium';

// Every scenario of spec/helpers/websocket-stream-scenarios.ts runs twice, with the same code:
// in headless Chromium against its native WebSocketStream (no flag needed in Chromium 156), and
// in Node against ours, both talking to one `serve()` server. Ours must observe exactly what
// the standard (whatwg/websockets PR #48) says, written out below; Chromium must observe the
// same, except where Chromium 156 is known to differ from the standard: those differences are
// applied to the expectation one by one (`asChromium156`), so that each stays asserted and a
// Chromium that changes fails here. The server's view of each connection (how it ended) must be
// the same for both runs too.

// ---- what the standard says each scenario observes ----

type Json = unknown;
const undef = { type: 'undefined' };
const str = (value: string): Json => ({ type: 'string', value });
/** A binary chunk as the standard has it: a Uint8Array owning its buffer. */
const bin = (bytes: number[]): Json => ({ type: 'Uint8Array', bytes, own: true });
const err = (name: string, closeCode?: number | null, reason?: string): Json => (closeCode === undefined
  ? { type: 'error', name, isWebSocketError: false }
  : { type: 'error', name, isWebSocketError: name === 'WebSocketError', closeCode, reason });
const fulfilled = (value: Json): Json => ({ fulfilled: value });
const rejected = (reason: Json): Json => ({ rejected: reason });
const closeInfo = (closeCode: number, reason: string): Json =>
  ({ type: 'object', value: { closeCode: { type: 'number', value: String(closeCode) }, reason: str(reason) } });
const closedClean = (closeCode: number, reason = ''): Json => fulfilled(closeInfo(closeCode, reason));
const lost = err('WebSocketError', 1006, '');

const MiB = 1 << 20;
const SPEC: Record<(typeof SCENARIOS)[number], Json> = {
  'echo-types': {
    written: Array(8).fill(fulfilled(undef)),
    read: [str('hello'), str('héllo 🎉'), str(''), bin([0, 1, 2, 3, 4, 5, 6, 7]), bin([0, 1, 2, 3, 4, 5, 6, 7]), bin([2, 3, 4]), bin([2, 1, 4, 3]), bin([])],
    closed: closedClean(4000, 'bye'),
  },
  'writes-are-copied': { read: [bin([1, 2, 3])], closed: closedClean(1005) },
  'text-conversion': {
    written: Array(5).fill(fulfilled(undef)),
    read: [str('42'), str('null'), str('custom'), str('lone \uFFFD surrogate'), str('true')],
    symbol: rejected(err('TypeError')),
    afterSymbol: rejected(err('TypeError')),
    closed: closedClean(1005),
  },
  'opened-fields': {
    fields: { keys: ['extensions', 'protocol', 'readable', 'writable'], protocol: 'chat.v1', extensions: '', readable: true, writable: true, again: true },
    closed: closedClean(1000),
  },
  'url-normalised': { url: 'BASE/echo?run=RUN&s=url-normalised', closed: closedClean(1005) },
  'constructor-errors': {
    unparsable: err('SyntaxError'), ftp: err('SyntaxError'), fragment: err('SyntaxError'), emptyFragment: err('SyntaxError'),
    duplicateProtocols: err('SyntaxError'), badProtocol: err('SyntaxError'), emptyProtocol: err('SyntaxError'), protocolsString: err('TypeError'),
  },
  'close-code-validation': {
    tries: {
      'code 999': err('InvalidAccessError'), 'code 1001': err('InvalidAccessError'), 'code 1005': err('InvalidAccessError'),
      'code 1006': err('InvalidAccessError'), 'code 2999': err('InvalidAccessError'), 'code 5000': err('InvalidAccessError'),
      // [EnforceRange] unsigned short: out of range or not finite is a TypeError.
      'code 65536': err('TypeError'), 'code NaN': err('TypeError'),
      'reason 124 bytes': err('SyntaxError'), 'reason 62 × é (124 bytes)': err('SyntaxError'),
      'bad code and long reason': err('InvalidAccessError'), 'close(true)': err('TypeError'),
      valid: 'returned', again: 'returned',
    },
    closed: closedClean(3000, 'é'.repeat(61) + '.'),
  },
  'close-reason-only': { closed: closedClean(1000, 'only a reason') },
  'close-empty': { closed: closedClean(1005) },
  'close-writable': { read: [], writerClose: fulfilled(undef), closed: closedClean(1005) },
  'cancel-readable-with-error': { cancelled: fulfilled(undef), closed: closedClean(4002, 'cancelled') },
  'cancel-readable-plain': { closed: closedClean(1005) },
  'abort-writable-with-error': { aborted: fulfilled(undef), read: [], closed: closedClean(1000, 'aborted') },
  // "Close using reason": a code JavaScript may not send is dropped, the close frame is empty.
  'cancel-with-unsendable-code': { error: lost, cancelled: fulfilled(undef), closed: closedClean(1005) },
  'websocket-error-constructor': {
    none: { ...(err('WebSocketError', null, '') as object), message: '' },
    message: { ...(err('WebSocketError', null, '') as object), message: 'm' },
    reasonOnly: { ...(err('WebSocketError', 1000, 'r') as object), message: 'm' },
    codeAndReason: { ...(err('WebSocketError', 3001, 'r') as object), message: 'm' },
    code1000: { ...(err('WebSocketError', 1000, '') as object), message: 'm' },
    code1001: err('InvalidAccessError'),
    code70000: err('TypeError'),
    longReason: err('SyntaxError'),
  },
  // The binary message was held back (nobody read) when the server's close came: dropped.
  'server-closes': {
    closed: closedClean(4001, 'server bye'), read: [str('first')],
    write: rejected(err('InvalidStateError')), writerClosed: rejected(err('InvalidStateError')),
  },
  'server-drops': { closed: rejected(lost), read: [{ readRejected: lost }], write: rejected(lost), writerClosed: rejected(lost) },
  'handshake-refused': { opened: rejected(err('WebSocketError', null, '')), closed: rejected(lost) },
  'abort-before-open': { opened: rejected(str('stopped early')), closed: rejected(str('stopped early')), close: 'returned' },
  'abort-during-handshake': { opened: rejected(err('WebSocketError', 4003, '')), closed: rejected(err('WebSocketError', 4003, '')) },
  'abort-after-open': { read: [str('still open')], closed: closedClean(4004, 'done') },
  'close-during-handshake': { close: 'returned', opened: rejected(err('WebSocketError', null, '')), closed: rejected(lost) },
  'write-after-close': { write: fulfilled(undef), read: [], closed: closedClean(4006), writerClosed: rejected(err('InvalidStateError')) },
  'many-large-messages': {
    got: [...Array(16).fill({ type: 'Uint8Array', length: MiB, ok: true }), str('server: 16 of 16 intact, in order')],
    closed: closedClean(1005),
  },
};

/** What the server received from each run, where that is the point. */
const SERVER_RECEIVED: Record<string, string[]> = {
  'close-writable': ['text:last'],
  // 'after' was written once the closing handshake had started: accepted, never sent.
  'write-after-close': ['text:before'],
};

// ---- where Chromium 156 differs from the standard ----

/** Binary chunks: Chromium 156 yields ArrayBuffers, the standard Uint8Arrays. */
function binaryAsArrayBuffer(v: Json): Json {
  if (Array.isArray(v)) return v.map(binaryAsArrayBuffer);
  if (typeof v !== 'object' || v === null) return v;
  const o = v as Record<string, unknown>;
  if (o.type === 'Uint8Array') return 'bytes' in o ? { type: 'ArrayBuffer', bytes: o.bytes } : { ...o, type: 'ArrayBuffer' };
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, binaryAsArrayBuffer(x)]));
}

/** What Chromium 156 observes: the standard's expectation with its known differences applied. */
function asChromium156(name: string, spec: Json): Json {
  const out = binaryAsArrayBuffer(spec) as Record<string, Record<string, unknown>>;
  switch (name) {
    case 'close-code-validation':
      // No [EnforceRange]: 65536 and NaN convert (modulo 2^16) to 0, an InvalidAccessError.
      return { ...out, tries: { ...out.tries, 'code 65536': err('InvalidAccessError'), 'code NaN': err('InvalidAccessError') } };
    case 'websocket-error-constructor':
      return { ...out, code70000: err('InvalidAccessError') };
    case 'cancel-with-unsendable-code':
      // cancel() rejects with the InvalidAccessError instead of closing without a code.
      return { ...out, cancelled: rejected(err('InvalidAccessError')) };
    case 'abort-before-open':
    case 'abort-during-handshake':
      // The promises reject with an AbortError DOMException, not with the signal's reason.
      return { ...out, opened: rejected(err('AbortError')), closed: rejected(err('AbortError')) };
    default:
      return out;
  }
}

// Where the server may or may not have seen a connection (the client gave up during the handshake).
const NO_SERVER_COMPARISON = new Set(['close-during-handshake', 'abort-during-handshake', 'abort-before-open', 'handshake-refused', 'constructor-errors', 'websocket-error-constructor']);

describe('WebSocketStream: ours in Node and Chromium 156 native, against one server', () => {
  let browser: Browser;
  let server: ScenarioServer;

  beforeAll(async () => {
    server = await startScenarioServer();
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.handle.close();
  });

  /** The scenario in a fresh page of Chromium, with its own WebSocketStream and WebSocketError; `label` names the run to the server. */
  async function inChromium(name: string, label: string): Promise<Json> {
    const page: Page = await browser.newPage();
    try {
      return await page.evaluate(([source, scenario, base, runLabel]) => {
        const run = (0, eval)(`(${source})`) as (n: string, env: unknown) => Promise<unknown>;
        const g = globalThis as unknown as Record<string, unknown>;
        return run(scenario, { WebSocketStream: g.WebSocketStream, WebSocketError: g.WebSocketError, base, run: runLabel });
      }, [runScenario.toString(), name, server.base, label] as const);
    } finally {
      await page.close();
    }
  }

  /**
   * Chromium 156's renderer now and then crashes in a scenario ("Target crashed": seen in
   * write-after-close, about one run in three on this machine; a crash of the browser, not an
   * error of the page): such a run is made again in a fresh page, at most twice, under a run
   * label of its own, so that the server's record of the crashed run is not compared.
   */
  async function inChromiumSurvivingCrashes(name: string): Promise<{ observed: Json; label: string }> {
    for (let attempt = 0; ; attempt++) {
      const label = attempt === 0 ? 'chromium' : `chromium-retry-${attempt}`;
      try {
        return { observed: await inChromium(name, label), label };
      } catch (e) {
        if (attempt >= 2 || !/Target crashed/.test(String(e))) throw e;
      }
    }
  }

  it('Chromium 156 has WebSocketStream and WebSocketError without a flag', async () => {
    const page = await browser.newPage();
    const kinds = await page.evaluate(() => {
      const g = globalThis as unknown as Record<string, { prototype: object } | undefined>;
      return [typeof g.WebSocketStream, typeof g.WebSocketError, Object.getPrototypeOf(g.WebSocketError?.prototype) === DOMException.prototype];
    });
    await page.close();
    expect(kinds).toEqual(['function', 'function', true]);
  });

  it.each(SCENARIOS)('%s: ours observes what the standard says, Chromium the same but for its recorded differences', async (name) => {
    const { observed: chromium, label } = await inChromiumSurvivingCrashes(name);
    const ours = await runScenario(name, { WebSocketStream, WebSocketError, base: server.base, run: 'node' } as unknown as ScenarioEnv);
    expect(ours).toEqual(SPEC[name]);
    expect(chromium).toEqual(asChromium156(name, SPEC[name]));
    if (!NO_SERVER_COMPARISON.has(name)) {
      const [serverSawChromium, serverSawOurs] = await Promise.all([server.ended(label, name), server.ended('node', name)]);
      expect(Object.keys(serverSawOurs).length).toBeGreaterThan(0);
      expect(serverSawOurs).toEqual(serverSawChromium);
      if (name in SERVER_RECEIVED) expect(serverSawOurs['/sink']?.received).toEqual(SERVER_RECEIVED[name]);
    }
  }, 60_000);
});
