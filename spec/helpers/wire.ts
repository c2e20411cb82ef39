// Raw frames as a peer writes them, and what an endpoint wrote, parsed back: for specs that
// talk to one Connection through the other end of a MemoryTransport (or a raw socket).
import { Connection } from '../../lib/streams/connection';
import type { ConnectionOptions } from '../../lib/streams/connection-init';
import { frame } from '../codec/helpers';
import { concat, handshakeInfo } from './connection-pair';
import { MemoryTransport } from './memory-transport';

export type Role = 'client' | 'server';

const enc = new TextEncoder();
const dec = new TextDecoder();
/** The masking key of every frame a raw client peer sends here. */
export const PEER_KEY = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);

/**
 * A frame as an endpoint of role `sender` sends it: masked when a client sends it (RFC 6455
 * §5.3), unless `masked` says otherwise.
 */
export function frameFrom(
  sender: Role,
  opcode: number,
  payload: Uint8Array | string = '',
  opts: { fin?: boolean; rsv?: number; masked?: boolean } = {},
): Uint8Array {
  const bytes = typeof payload === 'string' ? enc.encode(payload) : payload;
  const masked = opts.masked ?? sender === 'client';
  return frame(opcode, bytes, { fin: opts.fin, rsv: opts.rsv, key: masked ? PEER_KEY : undefined });
}

/** A close frame payload: the code, big-endian, then the reason. */
export function closeBody(code: number, reason = ''): Uint8Array {
  return concat([new Uint8Array([code >> 8, code & 255]), enc.encode(reason)]);
}

export interface WireFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Uint8Array;
  /** The payload as UTF-8 text. */
  text: string;
  /** A close frame's code (undefined for other frames and an empty close). */
  code: number | undefined;
}

/** Parses whole frames out of `bytes` (what one endpoint wrote), unmasking masked ones. */
export function framesOf(bytes: Uint8Array | readonly Uint8Array[]): WireFrame[] {
  const b = bytes instanceof Uint8Array ? bytes : concat([...bytes]);
  const out: WireFrame[] = [];
  let i = 0;
  while (i + 2 <= b.length) {
    const b0 = b[i]!;
    const b1 = b[i + 1]!;
    let len = b1 & 0x7f;
    let at = i + 2;
    if (len === 126) {
      len = (b[at]! << 8) | b[at + 1]!;
      at += 2;
    } else if (len === 127) {
      len = Number(new DataView(b.buffer, b.byteOffset + at, 8).getBigUint64(0));
      at += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    const key = masked ? b.subarray(at, at + 4) : undefined;
    if (masked) at += 4;
    if (at + len > b.length) break;
    const payload = new Uint8Array(b.subarray(at, at + len)); // a copy, even of a Buffer (whose slice() is a view)
    if (key) for (let j = 0; j < payload.length; j++) payload[j]! ^= key[j & 3]!;
    const opcode = b0 & 0x0f;
    out.push({
      fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode, masked, payload, text: dec.decode(payload),
      code: opcode === 8 && payload.length >= 2 ? (payload[0]! << 8) | payload[1]! : undefined,
    });
    i = at + len;
  }
  return out;
}

/** Frames in a short comparable form: `text:hello`, `binary:…`, `ping:p`, `pong:p`, `close:1002`. */
export function describeFrames(bytes: Uint8Array | readonly Uint8Array[]): string[] {
  return framesOf(bytes).map((f) => {
    switch (f.opcode) {
      case 0x0: return `cont:${f.text}`;
      case 0x1: return `text:${f.text}`;
      case 0x2: return `binary:${f.text}`;
      case 0x8: return `close:${f.code ?? ''}`;
      case 0x9: return `ping:${f.text}`;
      case 0xa: return `pong:${f.text}`;
      default: return `op${f.opcode}:${f.text}`;
    }
  });
}

/** Lets microtasks and `rounds` turns of the event loop pass (nothing waits on wall-clock time). */
export async function turns(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

const PENDING = Symbol('pending');

/**
 * What `p` settled with after a few turns of the event loop, or `'pending'`: for promises
 * that must settle without anyone moving a clock (an in-memory exchange needs only microtasks).
 */
export async function settledWithin<T>(p: Promise<T>, rounds = 10): Promise<T | 'pending'> {
  let result: T | typeof PENDING = PENDING;
  let error: { e: unknown } | undefined;
  p.then((v) => (result = v), (e: unknown) => (error = { e }));
  for (let i = 0; i < rounds && result === PENDING && error === undefined; i++) await turns(1);
  if (error) throw error.e;
  return result === PENDING ? 'pending' : result;
}

/**
 * One connection of role `role` over a MemoryTransport whose other end, `peer`, the test
 * writes raw frames into (`frameFrom(peerRole, ...)`); what the connection wrote is in
 * `transport.written`. The peer takes every byte unless paused (`peer.pause()`).
 */
export function rawEndpoint(role: Role, options?: ConnectionOptions): { conn: Connection; peer: MemoryTransport; transport: MemoryTransport; peerRole: Role } {
  const [peer, transport] = MemoryTransport.pair();
  const conn = new Connection(transport, { role, handshake: handshakeInfo(), options });
  peer.attach({ onData: () => {}, onEnd: () => {}, onError: () => {}, onDrain: () => {}, onClose: () => {} });
  return { conn, peer, transport, peerRole: role === 'server' ? 'client' : 'server' };
}
