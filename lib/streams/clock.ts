// Time and timers of a connection, injectable so that tests drive them (no test may depend
// on wall-clock scheduling). Globals only: the core runs in any JavaScript runtime.

/** What a connection needs of time: the heartbeat, the close timeout, how long a failure may wait. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The runtime's own timers and `Date.now()`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
