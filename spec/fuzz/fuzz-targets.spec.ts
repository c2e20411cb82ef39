// Every fuzz target (fuzz/*.ts) inside `npm test`: each file of its committed corpus replayed
// as a regression case, then a fixed number of generated inputs with a fixed seed, so that a
// run does the same work whatever the machine's speed (no time budget). `npm run fuzz` runs
// the same targets for as long as asked. Native project only: the targets use node:buffer.
import fc from 'fast-check';
import { inputsFor, loadCorpus, TARGETS } from '../../fuzz/harness';

/** Generated inputs per target: about 1–3 s each on this machine (README, "Fuzzing"). */
const RUNS: Readonly<Record<string, number>> = {
  'frame-parser': 15_000,
  protocol: 15_000,
  handshake: 20_000,
  'permessage-deflate': 40_000,
  'close-payload': 40_000,
  utf8: 8_000,
};
const SEED = 20_261_127;

describe.each(TARGETS.map((t) => [t.name, t] as const))('fuzz target %s', (name, target) => {
  const corpus = loadCorpus(name);

  it('has a committed seed corpus', () => {
    expect(corpus.length).toBeGreaterThan(0);
  });

  it.each(corpus.map(([file, data]) => [file, data] as const))('keeps its invariants on corpus file %s', (_file, data) => {
    target.fuzz(data);
  });

  it(`keeps its invariants on ${RUNS[name]} generated and mutated inputs (seed ${SEED})`, () => {
    fc.assert(fc.property(inputsFor(target, corpus.map(([, d]) => d)), (data) => {
      target.fuzz(data);
    }), { seed: SEED, numRuns: RUNS[name] });
  });
});
