// Fuzz target: the frame parser (lib/codec/frame-parser.ts), any bytes in any chunking.
import { FrameParser, type FrameParserOptions, type ParserEvent } from '../lib/codec/frame-parser';
import { maskInPlace } from '../lib/codec/mask';
import { wireInputs } from './frames';
import { check, chunkings, fresh, hex, onlyThrows, prng, sameOutcome, type FuzzTarget } from './support';

/** Options from the config byte: role (bit 0), maxFrameSize (bits 1–3), reserved bits and opcodes (bit 7). */
export function parserOptions(config: number): FrameParserOptions {
  const reserved = (config & 0x80) !== 0;
  return {
    role: (config & 1) === 0 ? 'server' : 'client',
    // Bit 3: Infinity, which lets lengths past 2^53 − 1 through as bigints.
    maxFrameSize: (config & 0x08) !== 0 ? Infinity : [undefined, 125, 1000, 0][(config >> 1) & 3],
    allowedRsv: reserved ? 0b100 : 0,
    allowedOpcodes: reserved ? [0x3, 0xb] : [],
  };
}

/** The most bytes a drained parser may hold: a control payload waiting for its last byte. */
const MAX_HELD = 124;

/** Everything the parser reported, with a frame's data pieces joined (their split follows the chunking). */
function run(options: FrameParserOptions, pieces: Uint8Array[], leaveMasked: boolean): unknown[] {
  const parser = new FrameParser(options);
  const out: unknown[] = [];
  let data: number[] = [];
  let length: number | bigint = 0;
  let failed = false;
  const drain = (): number => {
    let n = 0;
    for (let ev: ParserEvent | undefined; (ev = onlyThrows('FrameParser.next', () => parser.next(leaveMasked)) as ParserEvent | undefined);) {
      n++;
      check(!failed, 'the parser reported an event after its error');
      switch (ev.type) {
        case 'frame-start':
          check(options.role === 'client' ? !ev.header.masked : ev.header.masked, 'a frame with the wrong masking got through');
          length = ev.header.length;
          data = [];
          out.push({ start: { ...ev.header, maskKey: ev.header.maskKey && hex(ev.header.maskKey) } });
          break;
        case 'frame-data': {
          check(ev.data.length > 0, 'an empty frame-data event');
          const piece = ev.data.slice();
          if (ev.maskKey !== undefined) maskInPlace(piece, ev.maskKey, ev.maskPhase!);
          data.push(...piece);
          check(BigInt(data.length) <= BigInt(length), 'more payload than the header announced');
          break;
        }
        case 'frame-end':
          check(BigInt(data.length) === BigInt(length), `frame-end after ${data.length} of ${length} bytes`);
          out.push({ end: hex(new Uint8Array(data)) });
          data = [];
          break;
        case 'control':
          check(ev.payload.length <= 125 && ev.header.fin, 'a control frame over 125 bytes or fragmented');
          out.push({ control: ev.header.opcode, rsv: ev.header.rsv, payload: hex(ev.payload) });
          break;
        case 'error': {
          const v = ev.violation;
          const want = v.kind === 'FRAME_TOO_BIG' ? 1009 : 1002;
          check(v.closeCode === want, `${v.kind} carries close code ${v.closeCode}, not ${want}`);
          failed = true;
          out.push({ error: v.kind, code: v.closeCode, message: v.message });
          break;
        }
      }
    }
    return n;
  };
  for (const piece of pieces) {
    parser.push(piece);
    drain();
    check(parser.bufferedAmount <= MAX_HELD, () => `a drained parser holds ${parser.bufferedAmount} bytes`);
  }
  if (failed) {
    check(parser.failed && parser.bufferedAmount === 0, 'a failed parser still holds bytes');
  } else {
    if (data.length > 0) out.push({ partial: hex(new Uint8Array(data)) });
    // Liveness: a parser that has not failed makes progress on more bytes (256 zero bytes hold
    // a header, so some event must come), it never sits waiting with enough bytes in hand.
    parser.push(new Uint8Array(256));
    check(drain() > 0, 'the parser neither progresses nor fails on 256 more bytes');
  }
  return out;
}

export const target: FuzzTarget = {
  name: 'frame-parser',
  inputs: wireInputs,
  fuzz(input: Uint8Array): void {
    if (input.length === 0) return;
    const options = parserOptions(input[0]!);
    const wire = input.subarray(1);
    const rand = prng(input);
    let first: unknown[] | undefined;
    for (const pieces of chunkings(wire)) {
      const outcome = run(options, fresh(pieces), rand() < 0.5);
      if (first === undefined) first = outcome;
      else sameOutcome('frame parser, another chunking', first, outcome);
    }
  },
};
