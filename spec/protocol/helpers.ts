// A harness for the sans-I/O Protocol, in the manner of python-websockets' tests/test_protocol.py:
// bytes in → events out, and the exact bytes the protocol owes the peer.
import type { ProtocolEvent } from '../../lib/protocol/events';
import { Protocol, type ProtocolOptions } from '../../lib/protocol/protocol';
import { frame, hex, toHex } from '../codec/helpers';

export { frame, hex, toHex };

export type Role = 'client' | 'server';
export const ROLES: readonly Role[] = ['client', 'server'];

/** RFC 6455 §5.7's masking key: the key our client masks with, and the key a peer client masks with. */
export const KEY = hex('37fa213d');

const enc = new TextEncoder();
export const utf8 = (s: string): Uint8Array => enc.encode(s);
/** Hex of the UTF-8 of `s`, the form payloads take in events. */
export const h = (s: string): string => toHex(utf8(s));

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A close frame payload: code (2 bytes, big-endian) and UTF-8 reason. */
export function closePayload(code: number, reason = ''): Uint8Array {
  return concat([new Uint8Array([code >> 8, code & 255]), utf8(reason)]);
}

/** An event in comparable form: payloads as hex, headers reduced to what the wire said. */
export type Ev =
  | { type: 'frame-start'; opcode: number; fin: boolean; rsv: number; first: boolean; messageOpcode: number; encoded: boolean }
  | { type: 'frame-data'; data: string }
  | { type: 'frame-end'; fin: boolean }
  | { type: 'ping' | 'pong'; data: string }
  | { type: 'control'; opcode: number; rsv: number; data: string }
  | { type: 'close'; code: number; reason: string }
  | { type: 'failed'; code: number; kind: string; reason: string };

export function simplify(ev: ProtocolEvent): Ev {
  switch (ev.type) {
    case 'frame-start':
      return { type: 'frame-start', opcode: ev.header.opcode, fin: ev.header.fin, rsv: ev.header.rsv, first: ev.first, messageOpcode: ev.messageOpcode, encoded: ev.encoded };
    case 'frame-data':
      return { type: 'frame-data', data: toHex(ev.data) };
    case 'frame-end':
      return { type: 'frame-end', fin: ev.fin };
    case 'ping':
    case 'pong':
      return { type: ev.type, data: toHex(ev.data) };
    case 'control':
      return { type: 'control', opcode: ev.opcode, rsv: ev.rsv, data: toHex(ev.data) };
    case 'close':
      return { type: 'close', code: ev.code, reason: ev.reason };
    case 'failed':
      return { type: 'failed', code: ev.violation.closeCode, kind: ev.violation.kind, reason: ev.violation.message };
  }
}

/** Consecutive `frame-data` events as one: how a frame's payload was chunked depends on the reads. */
export function mergeData(events: readonly Ev[]): Ev[] {
  const out: Ev[] = [];
  for (const ev of events) {
    const last = out[out.length - 1];
    if (ev.type === 'frame-data' && last?.type === 'frame-data') out[out.length - 1] = { type: 'frame-data', data: last.data + ev.data };
    else out.push(ev);
  }
  return out;
}

/** Shorthands for expected events. */
export const start = (opcode: number, fin = true, more: Partial<Extract<Ev, { type: 'frame-start' }>> = {}): Ev => ({
  type: 'frame-start', opcode, fin, rsv: 0, first: opcode !== 0, messageOpcode: opcode, encoded: false, ...more,
});
export const data = (s: string, isHex = false): Ev => ({ type: 'frame-data', data: isHex ? s : h(s) });
export const end = (fin = true): Ev => ({ type: 'frame-end', fin });
/** start, data (when not empty), end of one unfragmented frame. */
export const whole = (opcode: number, payload: string): Ev[] => [start(opcode), ...(payload === '' ? [] : [data(payload)]), end()];
export const failed = (code: number, kind: string, reason?: string): Ev =>
  reason === undefined ? expect.objectContaining({ type: 'failed', code, kind }) : { type: 'failed', code, kind, reason };

/**
 * One endpoint's Protocol. `frame()` builds what its peer would send (masked when we are the
 * server); `sent()` builds what we are expected to send (masked with `KEY` when we are the client);
 * `receive()` feeds bytes and returns every event until more bytes are needed.
 */
export class Endpoint {
  readonly p: Protocol;
  /** Masking keys handed out by `maskKeySource`, in order. */
  keysUsed = 0;

  constructor(readonly role: Role, options: Omit<ProtocolOptions, 'role'> = {}) {
    this.p = new Protocol({ role, maskKeySource: () => (this.keysUsed++, KEY), ...options });
  }

  /** A frame from the peer: masked with `KEY` when the peer is a client (we are the server). */
  frame(opcode: number, payload: Uint8Array | string = '', opts: { fin?: boolean; rsv?: number; len?: 7 | 16 | 64; masked?: boolean } = {}): Uint8Array {
    const bytes = typeof payload === 'string' ? utf8(payload) : payload;
    const masked = opts.masked ?? this.role === 'server';
    return frame(opcode, bytes, { fin: opts.fin, rsv: opts.rsv, len: opts.len, key: masked ? KEY : undefined });
  }

  /** Hex of a frame we send: masked with `KEY` when we are the client. */
  sent(opcode: number, payload: Uint8Array | string = ''): string {
    const bytes = typeof payload === 'string' ? utf8(payload) : payload;
    return toHex(frame(opcode, bytes, { key: this.role === 'client' ? KEY : undefined }));
  }
  /** Hex of the close frame we send with `code` and `reason`. */
  sentClose(code: number, reason = ''): string {
    return this.sent(8, closePayload(code, reason));
  }

  /** Feeds `chunks` (copied: the parser unmasks in place), each followed by draining the events. */
  receiveRaw(...chunks: Uint8Array[]): Ev[] {
    const events: Ev[] = [];
    for (const chunk of chunks) {
      this.p.receive(chunk.slice());
      for (let ev = this.p.nextEvent(); ev; ev = this.p.nextEvent()) events.push(simplify(ev));
    }
    return events;
  }
  /** `receiveRaw()` with each frame's payload as one `frame-data` event. */
  receive(...chunks: Uint8Array[]): Ev[] {
    return mergeData(this.receiveRaw(...chunks));
  }

  /** Hex of everything the protocol owes the peer, taken. */
  output(): string {
    return toHex(concat(this.p.takeOutput()));
  }
}
