// Which spec files run under Deno and Bun besides Node, and which of their tests do not.
// Runtime-neutral: the jest spec that spawns the runtimes and the Deno runner both read it.

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
];

/**
 * Tests of those files left out in a runtime, by full name (describe titles and test title
 * joined by ' > '), each with the reason. Only measurements of the runtime itself belong
 * here, never behaviour of the library.
 */
export const SKIPPED: Readonly<Record<OtherRuntime, Readonly<Record<string, string>>>> = {
  deno: {},
  bun: {},
};

/** Whether a test of that full name runs in `runtime`. */
export const runsIn = (runtime: OtherRuntime, name: string): boolean => !(name in SKIPPED[runtime]);
