// Which spec files run under Deno and Bun besides Node, and which of their tests do not.
// Runtime-neutral: runtimes.spec.ts (under jest) and runner.ts (under Deno and Bun) both read it.

/** A runtime the subset runs in besides Node. */
export type OtherRuntime = 'deno' | 'bun';

/**
 * The spec files run under Deno and Bun, unchanged, relative to the repository root: the
 * codec, the sans-I/O protocol and handshake, the stream tier over the in-memory transport
 * (permessage-deflate through `zlibEngine` on the runtime's `node:zlib`), and the echo over TCP.
 */
export const RUNTIME_SPEC_FILES: readonly string[] = [
  'spec/codec/byte-queue.spec.ts',
  'spec/codec/close-payload.spec.ts',
  'spec/codec/frame-length-limits.spec.ts',
  'spec/codec/frame-parser.spec.ts',
  'spec/codec/mask.spec.ts',
  'spec/codec/mask-simd.spec.ts',
  'spec/codec/slab.spec.ts',
  'spec/codec/utf8-tail.spec.ts',
  'spec/codec/utf8-validator.spec.ts',
  'spec/protocol/closing.spec.ts',
  'spec/protocol/control-frames.spec.ts',
  'spec/protocol/failing.spec.ts',
  'spec/protocol/receive-data.spec.ts',
  'spec/protocol/split-input.spec.ts',
  'spec/handshake/accept-key.spec.ts',
  'spec/handshake/client-handshake.spec.ts',
  'spec/handshake/header-value-whitespace.spec.ts',
  'spec/handshake/header-values.spec.ts',
  'spec/handshake/server-handshake.spec.ts',
  'spec/extensions/deflate-params.spec.ts',
  'spec/extensions/reserved-opcodes.spec.ts',
  'spec/streams/abort-signal.spec.ts',
  'spec/streams/awaitable-ping.spec.ts',
  'spec/streams/broadcast.spec.ts',
  'spec/streams/close-info.spec.ts',
  'spec/streams/close-timeout.spec.ts',
  'spec/streams/connection.spec.ts',
  'spec/streams/endless-frame.spec.ts',
  'spec/streams/forwarded-frame-source-lost.spec.ts',
  'spec/streams/forwarded-text-utf8.spec.ts',
  'spec/streams/forwarded-text-utf8-deflate.spec.ts',
  'spec/streams/heartbeat.spec.ts',
  'spec/streams/iteration.spec.ts',
  'spec/streams/send-order-deflate.spec.ts',
  'spec/streams/web-stream-transport.spec.ts',
  'spec/runtimes/tcp-echo.spec.ts',
  'spec/runtimes/web-stream-tcp.spec.ts',
];

/** Left out in both runtimes to keep the added time of `npm test` small; they run under Node. */
const SLOW: Readonly<Record<string, string>> = {
  "CloseInfo.endedBy > 'protocol-error' when we fail the connection: the code says which rule":
    'waits out the 5 s closeTimeout on the real clock (10 s)',
  "CloseInfo.endedBy > 'protocol-error' for invalid UTF-8 reads 1007":
    'waits out the 5 s closeTimeout on the real clock (10 s)',
  'issue #4: a frame declared as 2^63 − 1 bytes (stream tier) > a receiver with the default limits refuses it from the header with 1009':
    'waits out the 5 s closeTimeout on the real clock',
  'Protocol (server role): one automatic pong owed at a time (§5.5.3) > answers 1 000 000 pings received without takeOutput() with exactly one pong, carrying the last payload':
    'a million frames: 4 s under Node, 8 to 11 s under Deno',
  'Protocol (client role): one automatic pong owed at a time (§5.5.3) > answers 1 000 000 pings received without takeOutput() with exactly one pong, carrying the last payload':
    'a million frames: 4 s under Node, 8 to 11 s under Deno',
};

/**
 * Tests of those files left out in a runtime, by full name (describe titles and test title
 * joined by ' > '), each with the reason: the slow ones, and measurements of the runtime
 * itself (never behaviour of the library).
 */
export const SKIPPED: Readonly<Record<OtherRuntime, Readonly<Record<string, string>>>> = {
  deno: { ...SLOW },
  bun: {
    ...SLOW,
    'Connection (native streams) > Connection keeps memory bounded for a message of 1,000,000 empty continuation frames':
      "measures process RSS against a bound set for V8's collector; JavaScriptCore collects later (112 MB peak against 64 MB)",
  },
};

/** Whether a test of that full name runs in `runtime`. */
export const runsIn = (runtime: OtherRuntime, name: string): boolean => !(name in SKIPPED[runtime]);
