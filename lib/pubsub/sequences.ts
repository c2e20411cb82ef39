// Sequence numbers per publisher and topic: the publishing side hands them out, the receiving
// side notices the ones that never came. Redis pub/sub delivers at most once and keeps
// nothing for a subscriber that is away, so a skipped number is the only sign of a loss.

/**
 * The next sequence number of each topic this process publishes to, from 1. At most `max`
 * topics are remembered: the one published to least recently is forgotten and starts again
 * from 1, which receivers take as a restart (see `ReceivedSequences`), so the memory is
 * bounded however many topics are used.
 */
export class PublishedSequences {
  readonly #next = new Map<string, number>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  next(topic: string): number {
    const seq = (this.#next.get(topic) ?? 0) + 1;
    // Delete and set again: a Map iterates in insertion order, so the first key is the least recently used.
    this.#next.delete(topic);
    this.#next.set(topic, seq);
    if (this.#next.size > this.#max) this.#next.delete(this.#next.keys().next().value!);
    return seq;
  }
}

/** The last sequence number received per topic and publisher, for the topics this process is subscribed to. */
export class ReceivedSequences {
  readonly #last = new Map<string, Map<string, number>>();

  /**
   * Records `seq` from `publisher` on `topic`; returns how many of its messages were missed
   * just before it. The first message seen from a publisher on a topic is the baseline:
   * whatever it sent before was not for this process.
   */
  receive(topic: string, publisher: string, seq: number): number {
    let byPublisher = this.#last.get(topic);
    if (byPublisher === undefined) {
      byPublisher = new Map();
      this.#last.set(topic, byPublisher);
    }
    const last = byPublisher.get(publisher);
    byPublisher.set(publisher, seq);
    if (last === undefined) return 0;
    if (seq > last) return seq - last - 1;
    // The publisher forgot the topic and counts from 1 again (PublishedSequences): what came
    // before `seq` since that restart was missed.
    return seq - 1;
  }

  /** Forgets `topic` (this process no longer receives it). */
  forget(topic: string): void {
    this.#last.delete(topic);
  }
}
