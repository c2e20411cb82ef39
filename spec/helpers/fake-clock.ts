import type { Clock } from '../../lib/streams/clock';

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/** Lets every pending microtask (and the microtasks they queue) run: nothing waits on wall-clock time. */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A clock that moves only when told to. Timers run in the order they fall due (ties in the
 * order they were set), each with `now()` reading its due time; a timer set by a timer runs in
 * the same `advance()` when it falls due within it.
 */
export class FakeClock implements Clock {
  #now: number;
  #nextId = 1;
  readonly #timers = new Map<number, Timer>();
  /** Every `setTimeout` ever called on this clock. */
  scheduled = 0;

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#nextId++;
    this.#timers.set(id, { id, at: this.#now + Math.max(0, ms), fn });
    this.scheduled++;
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Timers set and neither run nor cleared. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Due times of the pending timers, soonest first. */
  get dueTimes(): number[] {
    return [...this.#timers.values()].map((t) => t.at).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, running the timers due meanwhile in order, synchronously. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (let t = this.#next(end); t !== undefined; t = this.#next(end)) this.#run(t);
    this.#now = end;
  }

  /**
   * Moves time forward by `ms` as `advance()` does, but lets microtasks settle before the clock
   * moves on and after each timer: what a timer starts (a ping crossing an in-memory transport,
   * the pong coming back) happens before the next timer is due, as it would with real time.
   */
  async tick(ms: number): Promise<void> {
    const end = this.#now + ms;
    await settle();
    for (let t = this.#next(end); t !== undefined; t = this.#next(end)) {
      this.#run(t);
      await settle();
    }
    this.#now = end;
  }

  #next(end: number): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.#timers.values()) {
      if (t.at <= end && (best === undefined || t.at < best.at || (t.at === best.at && t.id < best.id))) best = t;
    }
    return best;
  }

  #run(t: Timer): void {
    this.#timers.delete(t.id);
    this.#now = t.at;
    t.fn();
  }
}
