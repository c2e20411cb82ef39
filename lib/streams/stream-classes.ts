import * as ponyfill from 'web-streams-polyfill';

// The core uses the runtime's WHATWG stream classes where they exist and the
// web-streams-polyfill ponyfill where they do not (older runtimes, some embedded engines).
// Picked once, at load: mixing classes of two implementations in one pipe would work but
// lose the native fast paths. The spec suite runs a second time with the globals removed.
const g = globalThis as unknown as Partial<typeof globalThis>;

/** True when the ponyfill is in use (the runtime has no global `ReadableStream`). */
export const usingPonyfill: boolean = typeof g.ReadableStream !== 'function' || typeof g.WritableStream !== 'function';

type RS = typeof globalThis.ReadableStream;
type WS = typeof globalThis.WritableStream;
type TS = typeof globalThis.TransformStream;

export const ReadableStream: RS = usingPonyfill ? (ponyfill.ReadableStream as unknown as RS) : g.ReadableStream!;
export const WritableStream: WS = usingPonyfill ? (ponyfill.WritableStream as unknown as WS) : g.WritableStream!;
export const TransformStream: TS =
  !usingPonyfill && typeof g.TransformStream === 'function' ? g.TransformStream : (ponyfill.TransformStream as unknown as TS);
