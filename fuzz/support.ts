// What every fuzz target shares: the target shape, the invariant check, a PRNG seeded from the
// input (so one input always gets the same chunkings and options), and the chunkings that the
// "a different chunking never changes the outcome" invariant compares.
import fc from 'fast-check';

/**
 * One fuzz target: `fuzz` takes any bytes, in the manner of a libFuzzer entry point, and
 * throws an `InvariantBroken` when the library breaks one of its promises on them. `inputs`
 * generates bytes shaped for this target (valid frames, header lists, ...), which the runner
 * mixes with raw bytes and with mutations of the corpus.
 */
export interface FuzzTarget {
  readonly name: string;
  fuzz(data: Uint8Array): void;
  readonly inputs: fc.Arbitrary<Uint8Array>;
}

/** The library broke an invariant on a fuzz input: this is a bug report, not a peer error. */
export class InvariantBroken extends Error {
  override readonly name = 'InvariantBroken';
}

export function check(ok: unknown, message: string | (() => string)): asserts ok {
  if (!ok) throw new InvariantBroken(typeof message === 'string' ? message : message());
}

/** Runs `fn`; an exception that is not one of `allowed` breaks the "only our own errors" invariant. */
export function onlyThrows<T>(what: string, fn: () => T, ...allowed: Array<abstract new (...args: never[]) => Error>): T | Error {
  try {
    return fn();
  } catch (err) {
    if (err instanceof InvariantBroken) throw err;
    if (allowed.some((type) => err instanceof type)) return err as Error;
    throw new InvariantBroken(`${what} threw ${(err as Error)?.name ?? typeof err}: ${(err as Error)?.message ?? String(err)}`);
  }
}

/** FNV-1a of the input: the seed of its PRNG. */
function hash(data: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i]!, 0x01000193);
  return h >>> 0;
}

/** A small deterministic PRNG (mulberry32), seeded from the input. */
export function prng(data: Uint8Array, salt = 0): () => number {
  return mulberry32(hash(data) ^ salt);
}

/** mulberry32: numbers in [0, 1), the same sequence for the same seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The chunkings of `bytes` that must all give the same outcome: whole, one byte at a time,
 * and two pseudo-random splittings (seeded from the bytes). Views, not copies: a consumer
 * that writes into its input (the frame parser unmasks in place) gets fresh copies from `fresh`.
 */
export function chunkings(bytes: Uint8Array): Uint8Array[][] {
  const out: Uint8Array[][] = [[bytes]];
  const bytewise: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i++) bytewise.push(bytes.subarray(i, i + 1));
  out.push(bytewise);
  for (let salt = 1; salt <= 2; salt++) {
    const rand = prng(bytes, salt);
    const pieces: Uint8Array[] = [];
    for (let at = 0; at < bytes.length;) {
      const n = 1 + Math.floor(rand() * (rand() < 0.5 ? 8 : 200));
      pieces.push(bytes.subarray(at, at + n));
      at += n;
    }
    out.push(pieces);
  }
  return out;
}

/** Copies of the pieces, so that in-place work on one chunking cannot change the next. */
export const fresh = (pieces: Uint8Array[]): Uint8Array[] => pieces.map((p) => p.slice());

export const text = (data: Uint8Array): string => Buffer.from(data).toString('latin1');
export const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

export const hex = (data: Uint8Array): string => Buffer.from(data).toString('hex');

/**
 * Two outcomes that must be equal, compared as JSON (bigints and byte arrays written out);
 * the first difference is named in the message.
 */
export function sameOutcome(what: string, a: unknown, b: unknown): void {
  const ja = toJson(a);
  const jb = toJson(b);
  if (ja === jb) return;
  let i = 0;
  while (i < ja.length && ja[i] === jb[i]) i++;
  throw new InvariantBroken(`${what}: outcomes differ at ${i}: …${ja.slice(Math.max(0, i - 80), i + 80)}… vs …${jb.slice(Math.max(0, i - 80), i + 80)}…`);
}

function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? hex(x) : x));
}
