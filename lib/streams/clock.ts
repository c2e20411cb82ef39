/**
 * Where a connection gets its time and its timers from: the heartbeat and the close timeout.
 * Tests hand in a clock they move by hand, so no behaviour depends on wall-clock scheduling.
 * Only globals are used: the core runs in any JavaScript runtime.
 */
export interface Clock {
  /** Milliseconds since some fixed point, as `Date.now()`. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds; returns a handle (not `undefined`) for `clearTimeout`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer `setTimeout` returned (a handle already run or cleared is ignored). */
  clearTimeout(handle: unknown): void;
}

/** The runtime's own clock: the global `setTimeout`, `clearTimeout` and `Date.now`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  // Called through the globals, never as methods of this object: a browser's setTimeout
  // throws when called with another `this` than the global object.
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
};
