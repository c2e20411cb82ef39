// Loading targets and corpora, and the inputs a run draws from: the target's shaped inputs,
// raw bytes, and mutations of the committed corpus. Shared by `npm run fuzz` and the spec.
// `inputsFor` is the unguided, property-based stream (fast-check) that the spec replays with a
// fixed seed; `npm run fuzz` is coverage-guided (fuzz/guided.ts) and uses `mutate` on its own
// corpus. README, "Fuzzing", says why this is not Jazzer.js.
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FuzzTarget } from './support';
import { target as frameParser } from './frame-parser';
import { target as protocol } from './protocol';
import { target as handshake } from './handshake';
import { target as permessageDeflate } from './permessage-deflate';
import { target as closePayload } from './close-payload';
import { target as utf8 } from './utf8';

export const TARGETS: readonly FuzzTarget[] = [frameParser, protocol, handshake, permessageDeflate, closePayload, utf8];

export const CORPUS_DIR = join(__dirname, 'corpus');

/** The committed corpus of a target: file name and bytes, in name order. */
export function loadCorpus(name: string): Array<[string, Uint8Array]> {
  let files: string[];
  try {
    files = readdirSync(join(CORPUS_DIR, name)).filter((f) => !f.startsWith('.')).sort();
  } catch {
    return [];
  }
  return files.map((f) => [f, new Uint8Array(readFileSync(join(CORPUS_DIR, name, f)))]);
}

/** One mutation of `seed`: flips, overwrites, inserts, deletes, or duplicates a slice. */
export function mutate(seed: Uint8Array, ops: Array<[number, number, number]>): Uint8Array {
  let b = Array.from(seed);
  for (const [kind, at, value] of ops) {
    const i = b.length === 0 ? 0 : at % b.length;
    switch (kind) {
      case 0: if (b.length > 0) b[i] = b[i]! ^ (1 << (value & 7)); break;
      case 1: if (b.length > 0) b[i] = value & 0xff; break;
      case 2: b.splice(i, 0, value & 0xff); break;
      case 3: b.splice(i, 1 + (value & 7)); break;
      case 4: b = [...b.slice(0, i), ...b.slice(i, i + 1 + (value & 31)), ...b.slice(i)]; break;
      // Interesting bytes: lengths 125/126/127, the FIN and mask bits, a UTF-8 lead.
      default: if (b.length > 0) b[i] = [0x7d, 0x7e, 0x7f, 0x80, 0xff, 0x00, 0xc0, 0xf4][value & 7]!; break;
    }
  }
  return new Uint8Array(b.slice(0, 4096));
}

/** What a run feeds `target.fuzz` (`generator` false: raw bytes and corpus mutations only, to measure what guidance adds). */
export function inputsFor(target: FuzzTarget, corpus: readonly Uint8Array[], generator = true): fc.Arbitrary<Uint8Array> {
  const arbitraries: Array<fc.WeightedArbitrary<Uint8Array>> = [
    ...(generator ? [{ weight: 5, arbitrary: target.inputs }] : []),
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }) },
  ];
  if (corpus.length > 0) {
    const ops = fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.nat(), fc.nat()), { minLength: 1, maxLength: 6 });
    arbitraries.push({ weight: 4, arbitrary: fc.tuple(fc.constantFrom(...corpus), ops).map(([seed, o]) => mutate(seed, o)) });
  }
  return fc.oneof(...arbitraries);
}

export function findTarget(name: string): FuzzTarget {
  const t = TARGETS.find((x) => x.name === name);
  if (t === undefined) throw new RangeError(`No fuzz target ${JSON.stringify(name)}; targets: ${TARGETS.map((x) => x.name).join(', ')}`);
  return t;
}
