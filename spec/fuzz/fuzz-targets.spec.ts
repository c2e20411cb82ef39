// Every fuzz target (fuzz/*.ts) inside `npm test`: each file of its committed corpus replayed
// as a regression case, then a fixed number of generated inputs with a fixed seed, so that a
// run does the same work whatever the machine's speed (no time budget). `npm run fuzz` runs
// the same targets for as long as asked. Native project only: the targets use node:buffer.
import fc from 'fast-check';
import { inputsFor, loadCorpus, TARGETS } from '../../fuzz/harness';

/** Generated inputs per target: together about 10 s on an idle 2-core machine (README, "Fuzzing"). */
const RUNS: Readonly<Record<string, number>> = {
  'frame-parser': 8_000,
  protocol: 8_000,
  handshake: 15_000,
  'permessage-deflate': 30_000,
  'close-payload': 30_000,
  utf8: 5_000,
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
