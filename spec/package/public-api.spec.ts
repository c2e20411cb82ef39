import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// The public API, decided on purpose: every name each entry exports, at run time (the built
// ESM and CJS bundles) and in its type declarations (dist/<entry>.d.cts). A name appearing or
// disappearing fails here: add it to (or remove it from) the lists below, and to README's
// "Entry points", deliberately.

const root = resolve(__dirname, '../..');
const dist = join(root, 'dist');

/** `websocket-streams`: the stream tier, the Autobahn tier, and what adapters to other runtimes plug in. */
const rootValues = [
  'CloseCode', 'Connection', 'ConnectionDeny', 'DEFAULT_OPTIONS', 'HandshakeError', 'IncomingFrame', 'IncomingMessage',
  'InvalidStateError', 'MessageWriter', 'Opcode', 'PerMessageDeflate', 'ReadyState', 'WebSocketClientProtocol',
  'WebSocketError', 'WebSocketProtocol', 'WebSocketServerProtocol', 'WebStreamTransport', 'describeCloseCode',
  'useStreamClasses', 'broadcast',
];
const rootTypes = [
  'BinaryData', 'BroadcastOptions', 'BroadcastResult', 'ByteTransport', 'CallbackResult', 'Clock', 'CloseEndedBy', 'CloseInfo', 'CodecSink', 'ConnectionAccept',
  'ConnectionInit', 'ConnectionOptions', 'ConnectionRequest', 'ConnectionResponse', 'DeflateAgreement', 'DeflateEngine',
  'DeflaterOptions', 'FrameLength', 'FrameOptions', 'HandshakeErrorKind', 'HandshakeInfo', 'MessageIteratorOptions',
  'CloseOptions', 'NextMessageOptions',
  'NativeUtf8Check', 'OutgoingData', 'OutgoingMessage', 'PerMessageDeflateOptions', 'ProtocolLimits', 'RawCodec',
  'RuntimeHooks', 'SendOptions', 'StreamClasses', 'TransportSink', 'UnsafeAllocator', 'ViolationKind', 'WebSocketErrorInit', 'WebSocketErrorKind', 'WebStreamTransportOptions',
  // the surface Connection shares with the browser entry's BrowserConnection
  'StreamConnection', 'StreamFrame', 'StreamMessage', 'StreamOutgoing', 'StreamSendOptions', 'StreamWaitOptions',
];

/** `websocket-streams/sans-io`: the building blocks for bringing your own I/O. */
const sansIoValues = [
  'CloseCode', 'DeflateExtension', 'FrameEncoder', 'FrameParser', 'HandshakeError', 'HeaderBits', 'InvalidStateError',
  'MAX_CLOSE_REASON_BYTES', 'MAX_CONTROL_PAYLOAD', 'MAX_FRAME_LENGTH', 'Opcode', 'Protocol', 'ProtocolViolation', 'ReadyState',
  'Rsv', 'Utf8Validator', 'WEBSOCKET_GUID', 'buildAcceptResponse', 'buildClientRequest', 'buildRejectionResponse',
  'checkFrameLength', 'computeAccept', 'createMaskKey', 'encodeClosePayload', 'encodeFrameHeader', 'generateKey', 'hasToken',
  'headerSize', 'isControlOpcode', 'isSendableCloseCode', 'isToken', 'isValidKey', 'isValidUtf8', 'isValidWireCloseCode',
  'maskInPlace', 'negotiateExtensions', 'parseClosePayload', 'parseExtensions', 'parseTokenList', 'parseWebSocketUrl',
  'serializeExtensions', 'validateServerResponse', 'validateUpgradeRequest',
  'buildExtendedConnectHeaders', 'validateExtendedConnect', 'validateExtendedConnectResponse', 'validateWebSocketOffer',
];
const sansIoTypes = [
  'ClientHandshakeResult', 'ClientRequest', 'ClientRequestOptions', 'ClosePayload', 'Extension', 'ExtensionFactory',
  'ExtensionOffer', 'FrameEncoderOptions', 'FrameHeader', 'FrameLength', 'FrameParserOptions', 'HandshakeErrorKind',
  'HandshakeRejection', 'HeaderMap', 'HeaderValue', 'NativeUtf8Check', 'NegotiatedExtensions', 'ParserEvent', 'PayloadSink',
  'PayloadTransform', 'ProtocolEvent', 'ProtocolLimits', 'ProtocolOptions', 'ResponseHeaders', 'UpgradeRequest', 'ViolationKind',
  'WebSocketOffer',
];

/** `websocket-streams/websocket-stream`: the WHATWG WebSocketStream over a Connection, runtime-neutral. */
const webSocketStreamValues = ['WebSocketError', 'WebSocketStream'];
const webSocketStreamTypes = [
  'WebSocketCloseInfo', 'WebSocketDialer', 'WebSocketErrorInit', 'WebSocketErrorKind', 'WebSocketOpenInfo', 'WebSocketStreamChunk',
  'WebSocketStreamOptions',
];

/** `websocket-streams/node`: the root entry plus the Node adapters (and the WebSocketStream that dials with connect()). */
const nodeValues = [
  ...rootValues,
  'SocketTransport', 'WebSocketClientFactory', 'WebSocketServerFactory', 'attach', 'connect', 'connectWS', 'handleUpgrade',
  'listenWS', 'nodeRuntime', 'reconnect', 'serve', 'zlibEngine', 'WebSocketStream',
  'Http2StreamTransport', 'handleExtendedConnect',
];
const nodeTypes = [
  ...rootTypes,
  'AcceptedConnection', 'UpgradeContext',
  'AttachOptions', 'ClientOptions', 'PathMatcher', 'PerMessageDeflateSetting', 'ProxySetting', 'ReconnectOptions',
  'ReconnectingConnections', 'RetryInfo', 'ServeOptions', 'ServerOptions',
  'SocketTransportOptions', 'UpgradeDecision', 'UpgradeRequestInfo', 'WebSocketAttachment', 'WebSocketServerHandle',
  'ZlibEngineOptions',
  'NodeWebSocketStreamOptions', 'WebSocketCloseInfo', 'WebSocketDialer', 'WebSocketOpenInfo', 'WebSocketStreamChunk', 'WebSocketStreamOptions',
  'AttachableServer', 'Http2ConnectOptions', 'ServerOf',
];

/** `websocket-streams/pubsub`: topics in one process, and across processes over Redis (its own entry: `redis` is an optional peer dependency). */
const pubsubValues = ['RedisTopics', 'Topics'];
const pubsubTypes = ['PublishResult', 'RedisGap', 'RedisStatus', 'RedisTopicsOptions', 'RedisTopicsStats'];
/** `websocket-streams/browser`: the stream tier's surface over the browser's own WebSocket API. */
const browserValues = [
  'BROWSER_DEFAULTS', 'BrowserConnection', 'BrowserMessage', 'CloseCode', 'HandshakeError', 'InvalidStateError', 'ReadyState',
  'WebSocketError', 'connect',
];
const browserTypes = [
  'BinaryData', 'BrowserConnectOptions', 'BrowserOutgoing', 'CloseEndedBy', 'CloseInfo', 'FrameLength', 'HandshakeErrorKind',
  'MessageIteratorOptions', 'StreamConnection', 'StreamFrame', 'StreamMessage', 'StreamOutgoing', 'StreamSendOptions',
  'StreamWaitOptions', 'ViolationKind', 'WebSocketErrorInit', 'WebSocketErrorKind',
];

const entries = [
  { entry: 'index', values: rootValues, types: rootTypes },
  { entry: 'sans-io', values: sansIoValues, types: sansIoTypes },
  { entry: 'node', values: nodeValues, types: nodeTypes },
  { entry: 'pubsub', values: pubsubValues, types: pubsubTypes },
  { entry: 'websocket-stream', values: webSocketStreamValues, types: webSocketStreamTypes },
  { entry: 'browser', values: browserValues, types: browserTypes },
] as const;

const sorted = (names: readonly string[]): string[] => [...new Set(names)].sort();

function runtimeNames(entry: string, format: 'esm' | 'cjs'): string[] {
  const file = join(dist, `${entry}.${format === 'esm' ? 'mjs' : 'cjs'}`);
  const code = format === 'esm'
    ? `const m = await import(${JSON.stringify('file://' + file)}); console.log(JSON.stringify(Object.keys(m)))`
    : `console.log(JSON.stringify(Object.keys(require(${JSON.stringify(file)}))))`;
  const out = execFileSync(process.execPath, [format === 'esm' ? '--input-type=module' : '--input-type=commonjs', '-e', code], { encoding: 'utf8' });
  return sorted(JSON.parse(out) as string[]);
}

/** The names a declaration file exports: every `export { … }` / `export type { … }` list (`a as B` exports B). */
function declaredNames(entry: string): string[] {
  const src = readFileSync(join(dist, `${entry}.d.cts`), 'utf8');
  expect(src).not.toMatch(/^export \* from/m); // every name is listed, none re-exported wholesale
  const names: string[] = [];
  for (const m of src.matchAll(/^export (?:type )?\{([^}]*)\}/gm)) {
    for (const part of m[1]!.split(',')) {
      const spec = part.trim();
      if (spec === '') continue;
      names.push(spec.split(/\s+as\s+/).pop()!.replace(/^type\s+/, ''));
    }
  }
  for (const m of src.matchAll(/^export (?:declare )?(?:class|interface|type|function|const|enum) ([A-Za-z0-9_$]+)/gm)) names.push(m[1]!);
  return sorted(names);
}

describe('public API: the names each entry exports', () => {
  beforeAll(() => {
    if (!existsSync(join(dist, 'sans-io.mjs'))) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
  });

  for (const { entry, values, types } of entries) {
    it(`${entry}: the ESM bundle exports exactly the listed runtime names`, () => expect(runtimeNames(entry, 'esm')).toEqual(sorted(values)));
    it(`${entry}: the CJS bundle exports exactly the listed runtime names`, () => expect(runtimeNames(entry, 'cjs')).toEqual(sorted(values)));
    it(`${entry}: dist/${entry}.d.cts declares exactly the listed runtime and type names`, () =>
      expect(declaredNames(entry)).toEqual(sorted([...values, ...types])));
  }

  it('no entry exports the stream classes, the ponyfill switch or codec internals', () => {
    const internal = ['ReadableStream', 'WritableStream', 'TransformStream', 'usingPonyfill', 'ByteQueue', 'GrowableBuffer', 'maskInto', 'subtractLength'];
    for (const { entry } of entries) expect(declaredNames(entry).filter((n) => internal.includes(n))).toEqual([]);
  });

  it('the declaration files carry no `_`-prefixed member (everything internal is stripped)', () => {
    for (const file of ['index.d.cts', 'sans-io.d.cts', 'node.d.cts', 'pubsub.d.cts', 'websocket-stream.d.cts', 'browser.d.cts', ...chunkDeclarations()]) {
      const src = readFileSync(join(dist, file), 'utf8');
      expect({ file, members: src.match(/^\s+(?:(?:readonly|static|get|set|private|protected|abstract)\s+)*_[A-Za-z0-9_$]*/gm) ?? [] }).toEqual({ file, members: [] });
    }
  });

  it('a strict consumer type-checks against the declarations alone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ws-streams-consumer-'));
    try {
      writeFileSync(join(dir, 'consumer.ts'), CONSUMER);
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: {
          strict: true, noEmit: true, skipLibCheck: false, target: 'ES2022', module: 'ESNext', moduleResolution: 'bundler',
          lib: ['ES2022', 'DOM', 'DOM.Iterable'], types: ['node'], typeRoots: [join(root, 'node_modules/@types')],
          paths: {
            'websocket-streams': [join(dist, 'index.d.cts')],
            'websocket-streams/sans-io': [join(dist, 'sans-io.d.cts')],
            'websocket-streams/node': [join(dist, 'node.d.cts')],
            'websocket-streams/pubsub': [join(dist, 'pubsub.d.cts')],
            'websocket-streams/websocket-stream': [join(dist, 'websocket-stream.d.cts')],
            'websocket-streams/browser': [join(dist, 'browser.d.cts')],
          },
        },
        files: ['consumer.ts'],
      }));
      const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
      let out = '';
      try {
        execFileSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8', cwd: dir });
      } catch (err) {
        out = String((err as { stdout?: string }).stdout ?? err);
      }
      expect(out).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

function chunkDeclarations(): string[] {
  const chunks = join(dist, 'chunks');
  return (require('node:fs') as typeof import('node:fs')).readdirSync(chunks).filter((f) => f.endsWith('.d.cts')).map((f) => `chunks/${f}`);
}

/** What a user writes: each entry's main uses, through their declarations only. */
const CONSUMER = `
import {
  Connection, WebSocketError, HandshakeError, WebSocketServerProtocol, WebStreamTransport, PerMessageDeflate,
  CloseCode, ReadyState, describeCloseCode, DEFAULT_OPTIONS,
  type ByteTransport, type TransportSink, type CloseInfo, type CloseEndedBy, type ConnectionInit, type RuntimeHooks,
  type DeflateEngine,
} from 'websocket-streams';
import { Protocol, FrameParser, Utf8Validator, validateUpgradeRequest, type ProtocolEvent, type Extension } from 'websocket-streams/sans-io';
import { Topics, RedisTopics, type RedisGap, type RedisStatus, type PublishResult } from 'websocket-streams/pubsub';
import { serve, connect, nodeRuntime, SocketTransport, zlibEngine, WebSocketStream, type WebSocketOpenInfo, type WebSocketCloseInfo } from 'websocket-streams/node';
import { WebSocketStream as CoreWebSocketStream, type WebSocketDialer } from 'websocket-streams/websocket-stream';
import { connect as connectInBrowser, type BrowserConnection, type StreamConnection } from 'websocket-streams/browser';

class Echo extends WebSocketServerProtocol {
  override onMessage(payload: Uint8Array, isBinary: boolean): void {
    this.sendMessage(payload, isBinary);
  }
}
void Echo;

class NullTransport implements ByteTransport {
  sink: TransportSink | undefined;
  readonly bufferedAmount = 0;
  attach(sink: TransportSink): void { this.sink = sink; }
  pause(): void {}
  resume(): void {}
  write(_chunks: readonly Uint8Array[]): boolean { return true; }
  end(): void {}
  destroy(_error?: Error): void {}
}

const runtime: RuntimeHooks = nodeRuntime;
const init: ConnectionInit = {
  role: 'server',
  handshake: { path: '/', url: 'ws://x/', protocol: '', extensions: '', requestHeaders: {}, responseHeaders: {}, remoteAddress: undefined, remotePort: undefined },
  runtime,
};
const conn: Connection = new Connection(new NullTransport(), init);
const state: ReadyState = conn.readyState;
void state;
conn.closed.then((info: CloseInfo) => {
  const why: CloseEndedBy = info.endedBy;
  const err: Error | undefined = info.error;
  console.log(info.wasClean, info.code, info.reason, why, err, describeCloseCode(info.code));
});
async function read(c: Connection): Promise<void> {
  for await (const msg of c) {
    try { await msg.bytes(); }
    catch (e) {
      if (e instanceof WebSocketError) {
        const code: number | null = e.closeCode;
        console.log(code, e.reason, e.kind);
      }
    }
  }
  await c.send('hi');
  await c.close(CloseCode.Normal, 'bye');
}
void read;
// One function for both connections: the shared surface.
async function greet(c: StreamConnection): Promise<string | undefined> {
  await c.send('hi');
  return (await c.nextMessage())?.text();
}
async function both(): Promise<void> {
  const browserConn: BrowserConnection = await connectInBrowser('ws://127.0.0.1:1/', { protocols: ['v1'], maxReceiveBuffer: 1 << 20 });
  console.log(await greet(browserConn), await greet(await connect('ws://127.0.0.1:1/')), browserConn.implementation);
}
void both;
async function dial(): Promise<void> {
  try { await connect('ws://127.0.0.1:1/'); }
  catch (e) { if (e instanceof HandshakeError) console.log(e.kind, e.status satisfies number | undefined); }
}
void dial;
void serve; void SocketTransport; void WebStreamTransport; void DEFAULT_OPTIONS.closeTimeout;
const engine: DeflateEngine = zlibEngine();
void new PerMessageDeflate(engine, { serverNoContextTakeover: true });

const p = new Protocol({ role: 'server', isUtf8: (b: Uint8Array) => b.length >= 0 });
p.receive(new Uint8Array([0x88, 0x80, 1, 2, 3, 4]));
for (let ev: ProtocolEvent | undefined = p.nextEvent(); ev !== undefined; ev = p.nextEvent()) console.log(ev.type);
const out: Uint8Array[] = p.takeOutput();
void out;
void FrameParser; void validateUpgradeRequest;
console.log(new Utf8Validator().push(new Uint8Array([0x61])));
const ext: Extension | undefined = undefined;
void ext;

const topics = new Topics();
const joined: boolean = topics.subscribe(conn, 'room');
console.log(joined, topics.publish('room', new Uint8Array([1])).sent, topics.subscriberCount('room'), topics.topicsOf(conn));
async function scaleOut(): Promise<void> {
  const bus = await RedisTopics.connect({
    url: 'redis://127.0.0.1:6379', topics, prefix: 'app:',
    onGap: (gap: RedisGap) => console.log(gap.topic, gap.publisher, gap.missed),
    onStatus: (s: RedisStatus) => console.log(s.type === 'reconnected' ? s.lostWhilePublishing : s.error),
  });
  const r: PublishResult = await bus.publish('room', 'hi', { maxBuffered: 1024 });
  console.log(r.forwarded, r.sent, bus.stats.lostWhilePublishing, bus.stats.missed, bus.publisherId);
  await bus.close();
}
void scaleOut;
// The WHATWG WebSocketStream: dialed in Node, a view of a server's connection, and the core one.
async function webStream(): Promise<void> {
  const wss = new WebSocketStream('ws://127.0.0.1:1/', { protocols: ['chat'], signal: AbortSignal.timeout(1000), perMessageDeflate: true });
  const info: WebSocketOpenInfo = await wss.opened;
  const chunk: string | Uint8Array | undefined = (await info.readable.getReader().read()).value;
  await info.writable.getWriter().write(chunk ?? 'x');
  wss.close({ closeCode: 4000, reason: 'bye' });
  const closed: WebSocketCloseInfo = await wss.closed;
  await info.readable.cancel(new WebSocketError('done', { closeCode: closed.closeCode, reason: closed.reason }));
  const view: CoreWebSocketStream = new CoreWebSocketStream(conn);
  const dialer: WebSocketDialer = async () => conn;
  void new CoreWebSocketStream('ws://x/', { dial: dialer });
  void view;
}
void webStream;
`;
