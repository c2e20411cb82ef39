// The WHATWG stream classes the core constructs its streams with. By default they are the
// runtime's globals (every current browser, Deno, Bun, Node >= 18): no polyfill is imported,
// so none is bundled. A runtime without them supplies a ponyfill once, before the first
// connection is made:
//
//   import { ReadableStream, WritableStream, TransformStream } from 'web-streams-polyfill';
//   useStreamClasses({ ReadableStream, WritableStream, TransformStream });
//
// The classes are looked up each time a stream is made (never captured at load), so supplying
// them after this module was loaded works; a connection made while none are available throws
// a TypeError saying so. Mixing two implementations in one pipe works but loses the native
// fast paths, so supply them before making connections, not between.

type RS = typeof globalThis.ReadableStream;
type WS = typeof globalThis.WritableStream;
type TS = typeof globalThis.TransformStream;

/**
 * The stream classes the core uses (see `useStreamClasses`). Each may be any constructor: a
 * ponyfill's own typings differ from the DOM lib's in details (web-streams-polyfill types its
 * byte-source constructor apart), and the core uses its instances through the standard API
 * only, so passing web-streams-polyfill's classes needs no cast.
 */
export interface StreamClasses {
  /** The `ReadableStream` constructor every readable of the core is made with. */
  readonly ReadableStream: RS | (abstract new (...args: never[]) => object);
  /** The `WritableStream` constructor every writable of the core is made with. */
  readonly WritableStream: WS | (abstract new (...args: never[]) => object);
  /** Not constructed by the core; re-exported for users. Defaults to the global, if any. */
  readonly TransformStream?: TS | (abstract new (...args: never[]) => object);
}

/** The classes in use, typed as the standard ones. */
interface ResolvedStreamClasses {
  readonly ReadableStream: RS;
  readonly WritableStream: WS;
  readonly TransformStream: TS;
}

const g = globalThis as unknown as Partial<typeof globalThis>;

const MISSING =
  "this runtime has no WHATWG streams: pass web-streams-polyfill's classes to useStreamClasses() " +
  "(import { ReadableStream, WritableStream, TransformStream } from 'web-streams-polyfill'; " +
  'useStreamClasses({ ReadableStream, WritableStream, TransformStream }))';

/** Classes given to `useStreamClasses`, or taken from the globals on first use. */
let current: ResolvedStreamClasses | undefined;

// Live bindings for the package's exports of the classes: the globals (undefined where the
// runtime has none) until `useStreamClasses` replaces them.
export let ReadableStream: RS = g.ReadableStream as RS;
export let WritableStream: WS = g.WritableStream as WS;
export let TransformStream: TS = g.TransformStream as TS;
/** True when the core's classes were supplied by `useStreamClasses` and are not the runtime's globals. */
export let usingPonyfill = false;

/**
 * Makes the core construct its streams with these classes (e.g. web-streams-polyfill's, where
 * the runtime has no global `ReadableStream`). Call it before making connections: streams
 * already made keep the classes they were made with.
 */
export function useStreamClasses(classes: StreamClasses): void {
  const { ReadableStream: rs, WritableStream: ws } = classes ?? ({} as StreamClasses);
  if (typeof rs !== 'function' || typeof ws !== 'function') {
    throw new TypeError('useStreamClasses() needs { ReadableStream, WritableStream } constructors (and optionally TransformStream)');
  }
  current = { ReadableStream: rs as RS, WritableStream: ws as WS, TransformStream: (classes.TransformStream ?? g.TransformStream) as TS };
  ReadableStream = current.ReadableStream;
  WritableStream = current.WritableStream;
  TransformStream = current.TransformStream;
  usingPonyfill = rs !== g.ReadableStream || ws !== g.WritableStream;
}

/**
 * The classes to construct streams with: those given to `useStreamClasses`, else the runtime's
 * globals. Throws a TypeError when neither exists.
 */
export function streamClasses(): ResolvedStreamClasses {
  if (current !== undefined) return current;
  if (typeof g.ReadableStream !== 'function' || typeof g.WritableStream !== 'function') throw new TypeError(MISSING);
  return (current = { ReadableStream: g.ReadableStream, WritableStream: g.WritableStream, TransformStream: g.TransformStream as TS });
}
