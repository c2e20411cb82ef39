import fc from 'fast-check';
import { ReadAheadQueue, releaseQueue, takeQueue, type ReadAheadEntry } from '../../lib/streams/read-ahead';

// The read-ahead queue is a FIFO that keeps its array's capacity when emptied, and one emptied
// queue is kept as a spare for the next connection that reads ahead.

const data = (n: number): ReadAheadEntry => ({ type: 'frame-data', data: new Uint8Array(n) }) as ReadAheadEntry;
const end = (fin: boolean): ReadAheadEntry => ({ type: 'frame-end', fin }) as ReadAheadEntry;

describe('ReadAheadQueue', () => {
  test('behaves as an array FIFO through any mix of push, shift and truncate, and counts payload bytes', () => {
    const op = fc.oneof(
      fc.record({ op: fc.constant('push' as const), n: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ op: fc.constant('shift' as const), n: fc.constant(0) }),
      fc.record({ op: fc.constant('truncate' as const), n: fc.integer({ min: 0, max: 10 }) }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 3000 }), (ops) => {
      const q = new ReadAheadQueue();
      const model: ReadAheadEntry[] = [];
      for (const { op: o, n } of ops) {
        if (o === 'push') {
          const e = data(n);
          q.push(e);
          model.push(e);
        } else if (o === 'shift') {
          if (model.length === 0) continue;
          expect(q.shift()).toBe(model.shift());
        } else {
          q.truncate(n);
          model.splice(n);
        }
        expect(q.length).toBe(model.length);
        expect(q.isEmpty).toBe(model.length === 0);
        expect(q.bytes).toBe(model.reduce((s, e) => s + (e.type === 'frame-data' ? e.data.length : 0), 0));
        if (model.length > 0) expect(q.peek()).toBe(model[0]);
      }
    }), { numRuns: 200 });
  });

  test('an emptied queue keeps its capacity and starts again at its first slot', () => {
    const q = new ReadAheadQueue();
    for (let i = 0; i < 300; i++) q.push(data(1));
    const capacity = q.capacity;
    for (let i = 0; i < 300; i++) q.shift();
    expect(q.isEmpty).toBe(true);
    expect(q.capacity).toBe(capacity);
    q.push(end(true));
    expect(q.lengthThroughFin()).toBe(1);
    expect(q.capacity).toBe(capacity);
  });

  test('lengthThroughFin counts from the oldest entry held, not from the array start', () => {
    const q = new ReadAheadQueue();
    q.push(data(1));
    q.push(end(true));
    q.push(data(2));
    q.push(end(false));
    q.push(data(3));
    q.push(end(true));
    q.shift();
    q.shift();
    expect(q.lengthThroughFin()).toBe(4);
    q.shift();
    q.shift();
    expect(q.lengthThroughFin()).toBe(2);
  });

  test('the spare: an emptied queue is handed out again, once; a queue still holding entries is not', () => {
    const a = takeQueue();
    a.push(data(1));
    releaseQueue(a); // not empty: not kept
    const b = takeQueue();
    expect(b).not.toBe(a);
    a.shift();
    releaseQueue(a);
    expect(takeQueue()).toBe(a);
    expect(takeQueue()).not.toBe(a);
  });

  test('a drained queue becomes the spare only if it holds 1,024 slots or fewer: the spare pins 8 KiB at most', () => {
    for (const n of [1000, 1024, 1025, 5000, 16384]) {
      const q = new ReadAheadQueue();
      for (let i = 0; i < n; i++) q.push(data(0));
      for (let i = 0; i < n; i++) q.shift();
      releaseQueue(q);
      const next = takeQueue();
      expect(next.capacity).toBeLessThanOrEqual(1024);
      expect(next === q).toBe(q.capacity <= 1024);
    }
    // 1,024 entries drained: kept; 1,025: its array is let go.
    const kept = new ReadAheadQueue();
    for (let i = 0; i < 1024; i++) kept.push(data(0));
    for (let i = 0; i < 1024; i++) kept.shift();
    releaseQueue(kept);
    expect(takeQueue()).toBe(kept);
    const dropped = new ReadAheadQueue();
    for (let i = 0; i < 1025; i++) dropped.push(data(0));
    for (let i = 0; i < 1025; i++) dropped.shift();
    releaseQueue(dropped);
    expect(takeQueue()).not.toBe(dropped);
  });
});
