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
