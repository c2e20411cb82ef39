// Fuzz target: the sans-I/O protocol (lib/protocol/protocol.ts): event sequences, limits,
// failures and what it owes the peer, for any bytes in any chunking.
import { FrameParser } from '../lib/codec/frame-parser';
import { maskInPlace } from '../lib/codec/mask';
import { Protocol, type ProtocolOptions } from '../lib/protocol/protocol';
import type { ProtocolEvent } from '../lib/protocol/events';
import { ReadyState } from '../lib/protocol/state';
import { PerMessageDeflate } from '../lib/extensions/permessage-deflate/permessage-deflate';
import { wireInputs } from './frames';
import { noEngine } from './handshake';
import { check, chunkings, fresh, hex, onlyThrows, prng, sameOutcome, type FuzzTarget } from './support';

/**
 * Options from the config byte (role and limits), small enough for inputs to reach them. The
 * top bit negotiates permessage-deflate (RSV1: its messages are encoded, left to the streams
 * layer to inflate) and accepts RSV3 and the reserved opcodes 0x3 and 0xB.
 */
export function protocolOptions(config: number): ProtocolOptions {
  const reserved = (config & 0x80) !== 0;
  return {
    extensions: reserved ? [new PerMessageDeflate(noEngine).accept([{ name: 'permessage-deflate', params: [] }])!.extension] : [],
    role: (config & 1) === 0 ? 'server' : 'client',
    maxFrameSize: [undefined, 125, 1000, 0][(config >> 1) & 3],
    maxMessageSize: [undefined, 200, 1000, 64][(config >> 3) & 3],
    maxFragments: (config & 0x20) !== 0 ? 3 : undefined,
    autoPong: (config & 0x40) === 0,
    allowReservedBits: reserved ? 0b001 : 0,
    allowReservedOpcodes: reserved ? [0x3, 0xb] : [],
    maskKeySource: () => new Uint8Array([1, 2, 3, 4]),
  };
}

const CODE_OF: Record<string, number> = { INVALID_UTF8: 1007, FRAME_TOO_BIG: 1009, MESSAGE_TOO_BIG: 1009, TOO_MANY_FRAGMENTS: 1009 };
const fatal = new TextDecoder('utf-8', { fatal: true });

/** The close frames and pongs in the protocol's output, read back with a parser of the peer's role. */
function readOutput(role: 'client' | 'server', chunks: Uint8Array[]): Array<{ opcode: number; payload: Uint8Array }> {
  const parser = new FrameParser({ role: role === 'client' ? 'server' : 'client' });
  for (const c of chunks) parser.push(c.slice());
  const frames: Array<{ opcode: number; payload: Uint8Array }> = [];
  for (let ev = parser.next(); ev; ev = parser.next()) {
    check(ev.type === 'control', () => `the protocol's own output holds a ${ev!.type} event`);
    if (ev.type === 'control') frames.push({ opcode: ev.header.opcode, payload: ev.payload });
  }
  check(parser.bufferedAmount === 0, 'the output ends inside a frame');
  return frames;
}

function run(options: ProtocolOptions, pieces: Uint8Array[], leaveMasked: boolean): unknown {
  const proto = new Protocol(options);
  const maxMessage = options.maxMessageSize ?? Infinity;
  const maxFragments = options.maxFragments ?? Infinity;
  const maxFrame = options.maxFrameSize ?? Infinity;
  const events: unknown[] = [];
  let ended = false;
  let data: number[] = [];
  let message: { opcode: number; bytes: number; frames: number; text: number[]; encoded: boolean } | undefined;
  let failure: { code: number; kind: string } | undefined;
  let received: { code: number } | undefined;
  let pings = 0;
  const drain = (): number => {
    let n = 0;
    for (let ev: ProtocolEvent | undefined; (ev = onlyThrows('Protocol.nextEvent', () => proto.nextEvent(leaveMasked)) as ProtocolEvent | undefined);) {
      n++;
      check(!ended, () => `a ${ev!.type} event after the close or failure`);
      switch (ev.type) {
        case 'frame-start':
          if (ev.first) message = { opcode: ev.messageOpcode, bytes: 0, frames: 0, text: [], encoded: ev.encoded };
          check(ev.encoded === ((ev.messageRsv & 0b100) !== 0 && (options.extensions?.length ?? 0) > 0), 'a message marked encoded that no extension owns, or the reverse');
          check(ev.first || (ev.header.rsv & 0b100) === 0 || options.extensions?.length === 0, 'RSV1 on a continuation frame got through (RFC 7692 §6.1)');
          check(message !== undefined, 'a continuation frame-start without a message');
          check(++message.frames <= maxFragments, 'more frames in a message than maxFragments');
          data = [];
          events.push({ start: { fin: ev.header.fin, rsv: ev.header.rsv, opcode: ev.header.opcode, length: ev.header.length }, first: ev.first });
          break;
        case 'frame-data': {
          // A consumer that asked for masked payload unmasks it while copying.
          const piece = ev.data.slice();
          if (ev.maskKey !== undefined) maskInPlace(piece, ev.maskKey, ev.maskPhase!);
          data.push(...piece);
          message!.bytes += piece.length;
          if (message!.opcode === 1) message!.text.push(...piece);
          check(data.length <= maxFrame, 'a frame longer than maxFrameSize got through');
          check(message!.bytes <= maxMessage, 'a message longer than maxMessageSize got through');
          break;
        }
        case 'frame-end':
          events.push({ end: hex(new Uint8Array(data)), fin: ev.fin });
          data = [];
          if (ev.fin) {
            if (message!.opcode === 1 && !message!.encoded) {
              const ok = onlyThrows('TextDecoder', () => fatal.decode(new Uint8Array(message!.text)), TypeError);
              check(!(ok instanceof Error), 'a text message that is not UTF-8 got through');
            }
            message = undefined;
          }
          break;
        case 'ping':
          pings++;
          events.push({ ping: hex(ev.data) });
          break;
        case 'pong':
          events.push({ pong: hex(ev.data) });
          break;
        case 'control':
          events.push({ control: ev.opcode, data: hex(ev.data) });
          break;
        case 'close':
          received = { code: ev.code };
          ended = true;
          events.push({ close: ev.code, reason: ev.reason });
          break;
        case 'failed': {
          const v = ev.violation;
          const want = CODE_OF[v.kind] ?? 1002;
          check(v.closeCode === want, `${v.kind} fails with ${v.closeCode}, not ${want} (RFC 6455 §7.4.1)`);
          failure = { code: v.closeCode, kind: v.kind };
          ended = true;
          // What arrived of the open frame depends on where the chunk with the bad byte began.
          data = [];
          events.push({ failed: v.kind, code: v.closeCode, message: v.message });
          break;
        }
      }
    }
    return n;
  };
  for (const piece of pieces) {
    proto.receive(piece);
    drain();
    check(proto.bufferedAmount <= 124, () => `a drained protocol holds ${proto.bufferedAmount} bytes`);
  }
  if (ended) {
    check(proto.state === ReadyState.Closing && proto.bufferedAmount === 0, 'a closed or failed protocol is not closing or holds bytes');
  } else {
    if (data.length > 0) events.push({ partial: hex(new Uint8Array(data)) });
    // Liveness: 256 more bytes hold a header, so the protocol reports something or fails.
    proto.receive(new Uint8Array(256));
    check(drain() > 0, 'the protocol neither progresses nor fails on 256 more bytes');
  }
  const output = readOutput(options.role, onlyThrows('Protocol.takeOutput', () => proto.takeOutput()) as Uint8Array[]);
  // Memory bound: however many pings came, at most one pong and one close are owed.
  check(output.length <= 2, () => `${output.length} frames owed after ${pings} pings`);
  const closes = output.filter((f) => f.opcode === 0x8);
  if (failure !== undefined) {
    check(closes.length === 1 && ((closes[0]!.payload[0]! << 8) | closes[0]!.payload[1]!) === failure.code,
      `the failure's close frame does not carry ${failure.code}`);
  }
  if (received !== undefined && failure === undefined) {
    const echo = closes[0]?.payload;
    check(echo !== undefined && (received.code === 1005 ? echo.length === 0 : ((echo[0]! << 8) | echo[1]!) === received.code),
      `the close echo does not carry ${received.code}`);
  }
  return { events, output: output.map((f) => ({ opcode: f.opcode, payload: hex(f.payload) })) };
}

export const target: FuzzTarget = {
  name: 'protocol',
  inputs: wireInputs,
  fuzz(input: Uint8Array): void {
    if (input.length === 0) return;
    const options = protocolOptions(input[0]!);
    const rand = prng(input);
    let first: unknown;
    for (const pieces of chunkings(input.subarray(1))) {
      const outcome = run(options, fresh(pieces), rand() < 0.5);
      if (first === undefined) first = outcome;
      else sameOutcome('protocol, another chunking', first, outcome);
    }
  },
};
