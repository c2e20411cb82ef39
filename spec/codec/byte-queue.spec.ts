import fc from 'fast-check';
import { ByteQueue } from '../../lib/codec/byte-queue';

const bytes = (...b: number[]) => new Uint8Array(b);
const rest = (q: ByteQueue): number[] => Array.from(q.take(q.length));

describe('ByteQueue.drop', () => {
  it('ByteQueue.drop removes bytes inside the first chunk without touching the next', () => {
    const q = new ByteQueue();
    q.push(bytes(1, 2, 3));
    q.push(bytes(4, 5));
    q.drop(2);
    expect(q.length).toBe(3);
    expect(q.peekByte(0)).toBe(3);
    expect(rest(q)).toEqual([3, 4, 5]);
  });

  it('ByteQueue.drop ending exactly at a chunk boundary leaves the next chunk whole', () => {
    const q = new ByteQueue();
    q.push(bytes(1, 2));
    q.push(bytes(3, 4));
    q.drop(2);
    expect(q.length).toBe(2);
    expect(Array.from(q.takeUpTo(10))).toEqual([3, 4]);
    expect(q.length).toBe(0);
  });

  it('ByteQueue.drop crosses several chunks and continues at the right offset', () => {
    const q = new ByteQueue();
    q.push(bytes(1));
    q.push(bytes(2, 3));
    q.push(bytes(4, 5, 6));
    q.drop(1);
    q.drop(3); // 2, 3 and 4
    expect(q.length).toBe(2);
    expect(Array.from(q.takeUpTo(10))).toEqual([5, 6]);
  });

  it('ByteQueue.drop of everything empties the queue, which then takes new chunks', () => {
    const q = new ByteQueue();
    q.push(bytes(1, 2));
    q.push(bytes(3));
    q.drop(3);
    expect(q.length).toBe(0);
    q.push(bytes(7, 8));
    expect(q.peekByte(1)).toBe(8);
    expect(rest(q)).toEqual([7, 8]);
  });
});

describe('ByteQueue against a plain byte array', () => {
  // Queues hand an emptied array to the next queue that gets a chunk: two queues emptied and
  // filled in turn must never end up sharing one, and a queue past its compaction point (64
  // chunks consumed) must still hand out its bytes in order.
  type Op =
    | { q: 0 | 1; op: 'push'; bytes: number[] }
    | { q: 0 | 1; op: 'takeUpTo' | 'take' | 'drop' | 'skip' | 'peek'; n: number };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ q: fc.constantFrom(0 as const, 1 as const), op: fc.constant('push' as const), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 5 }) }),
    fc.record({ q: fc.constantFrom(0 as const, 1 as const), op: fc.constantFrom('takeUpTo' as const, 'take' as const, 'drop' as const, 'skip' as const, 'peek' as const), n: fc.nat(12) }),
  );

  it('hands out exactly the bytes pushed, in order, whatever the interleaving of two queues', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 400 }), (ops) => {
        const queues = [new ByteQueue(), new ByteQueue()];
        const models: number[][] = [[], []];
        for (const o of ops) {
          const q = queues[o.q]!;
          const model = models[o.q]!;
          if (o.op === 'push') {
            q.push(new Uint8Array(o.bytes));
            model.push(...o.bytes);
          } else if (o.op === 'peek') {
            if (o.n < model.length) expect(q.peekByte(o.n)).toBe(model[o.n]);
          } else {
            const n = Math.min(o.n, model.length);
            if (o.op === 'takeUpTo') {
              const got = Array.from(q.takeUpTo(n));
              expect(got).toEqual(model.slice(0, got.length));
              if (n > 0) expect(got.length).toBeGreaterThan(0);
              model.splice(0, got.length);
            } else if (o.op === 'take') {
              expect(Array.from(q.take(n))).toEqual(model.splice(0, n));
            } else {
              if (o.op === 'drop') q.drop(n);
              else q.skip(n);
              model.splice(0, n);
            }
          }
          expect(q.length).toBe(model.length);
        }
        for (let i = 0; i < 2; i++) expect(Array.from(queues[i]!.take(queues[i]!.length))).toEqual(models[i]);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps its bytes in order across the compaction of a queue that never runs empty', () => {
    // Ten chunks ahead, then one in and one out per round: the queue never empties, and past
    // 64 consumed chunks it compacts its array (more than half of it consumed) while in use.
    const q = new ByteQueue();
    const other = new ByteQueue();
    let pushed = 0;
    let taken = 0;
    const pushPair = () => {
      q.push(new Uint8Array([pushed & 0xff, (pushed + 1) & 0xff]));
      pushed += 2;
    };
    for (let i = 0; i < 10; i++) pushPair();
    for (let round = 0; round < 300; round++) {
      pushPair();
      // The other queue empties on every round, taking and giving back the process's spare.
      other.push(new Uint8Array([round & 0xff]));
      expect(Array.from(other.take(1))).toEqual([round & 0xff]);
      expect(q.peekByte(0)).toBe(taken & 0xff);
      q.drop(1);
      expect(Array.from(q.take(1))).toEqual([(taken + 1) & 0xff]);
      taken += 2;
      expect(q.length).toBe(pushed - taken);
    }
    expect(Array.from(q.take(q.length))).toEqual(Array.from({ length: pushed - taken }, (_, i) => (taken + i) & 0xff));
  });
});
