// Wire bytes shaped like WebSocket traffic, for the frame parser and protocol targets: random
// bytes alone rarely get past the first header, so most inputs are sequences of frames that
// are valid or broken in one place (a bit, a length, a mask, a payload byte).
import fc from 'fast-check';

interface FrameSpec {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  /** 0: minimal length encoding; 1: 16-bit; 2: 64-bit; 3: the header claims `claimed` bytes. */
  lengthForm: number;
  claimed: number;
  key: number[];
  payload: Uint8Array;
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

const payloads = fc.oneof(
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }).map(utf8) },
  // Close payloads: a code (valid or not) and a short reason.
  { weight: 2, arbitrary: fc.tuple(fc.oneof(fc.constantFrom(1000, 1001, 1002, 1005, 1006, 1007, 1015, 1016, 2999, 3000, 4999, 5000), fc.integer({ min: 0, max: 0xffff })), fc.string({ maxLength: 10 }))
    .map(([code, reason]) => { const r = utf8(reason); const out = new Uint8Array(2 + r.length); out[0] = code >> 8; out[1] = code & 0xff; out.set(r, 2); return out; }) },
  // Bytes that break UTF-8 in the known ways: stray continuation, overlong, surrogate, > U+10FFFF, truncated.
  { weight: 1, arbitrary: fc.constantFrom([0x80], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf0, 0x9f, 0x98], [0xce, 0xba, 0xe1]).map((b) => new Uint8Array(b)) },
  { weight: 1, arbitrary: fc.integer({ min: 126, max: 300 }).map((n) => new Uint8Array(n).fill(0x61)) },
);

const frameSpec = (masked: boolean): fc.Arbitrary<FrameSpec> => fc.record({
  fin: fc.boolean(),
  rsv: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 7 }) }),
  opcode: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(0x0, 0x1, 0x2, 0x8, 0x9, 0xa) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 15 }) }),
  masked: fc.oneof({ weight: 12, arbitrary: fc.constant(masked) }, { weight: 1, arbitrary: fc.constant(!masked) }),
  lengthForm: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) }),
  claimed: fc.oneof(fc.integer({ min: 0, max: 70_000 }), fc.constantFrom(2 ** 31, 2 ** 53 - 1, 2 ** 53, 2 ** 63)),
  key: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }),
  payload: payloads,
});

function encode(f: FrameSpec): Uint8Array {
  const len = f.payload.length;
  const head: number[] = [(f.fin ? 0x80 : 0) | (f.rsv << 4) | f.opcode];
  const m = f.masked ? 0x80 : 0;
  const claimed = f.lengthForm === 3 ? f.claimed : len;
  if (f.lengthForm === 0 && claimed < 126) head.push(m | claimed);
  else if ((f.lengthForm <= 1 && claimed < 0x10000) || (f.lengthForm === 3 && claimed < 0x10000)) head.push(m | 126, claimed >> 8, claimed & 0xff);
  else {
    head.push(m | 127);
    const big = BigInt(claimed);
    for (let i = 7; i >= 0; i--) head.push(Number((big >> BigInt(8 * i)) & 0xffn));
  }
  const payload = f.payload.slice();
  if (f.masked) {
    head.push(...f.key);
    for (let i = 0; i < payload.length; i++) payload[i]! ^= f.key[i & 3]!;
  }
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
}

/** Messages as a peer would fragment them: a first frame, continuations, a final one; control frames between. */
const trafficOf = (masked: boolean): fc.Arbitrary<Uint8Array> =>
  fc.array(frameSpec(masked), { maxLength: 8 }).map((specs) => {
    // Nudge the opcodes into message order, mostly: continuation after an unfinished data frame.
    let open = false;
    for (const s of specs) {
      const control = (s.opcode & 0x8) !== 0;
      if (!control && s.opcode !== 0 && open && s.rsv === 0) s.opcode = 0;
      if (!control) open = !s.fin;
    }
    return new Uint8Array(Buffer.concat(specs.map(encode)));
  });

/**
 * Inputs for the byte-level WebSocket targets: one config byte (role and limits, read by the
 * target), then traffic. The config byte's low bit is the role, so frames are masked to match.
 */
export const wireInputs: fc.Arbitrary<Uint8Array> = fc.integer({ min: 0, max: 255 }).chain((config) =>
  fc.oneof(
    { weight: 6, arbitrary: trafficOf((config & 1) === 0) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  ).map((wire) => {
    const out = new Uint8Array(1 + wire.length);
    out[0] = config;
    out.set(wire, 1);
    return out;
  }));
