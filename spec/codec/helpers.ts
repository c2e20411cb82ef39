import { FrameParser, type FrameParserOptions, type ParserEvent } from '../../lib/codec/frame-parser';

export const hex = (s: string): Uint8Array => new Uint8Array((s.replace(/\s+/g, '').match(/../g) ?? []).map((b) => parseInt(b, 16)));
export const toHex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

export interface ParsedFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  payload: string; // hex
}

/** Feeds `bytes` to a parser (whole, at split points, or byte by byte) and collects frames. */
export function parseAll(bytes: Uint8Array, options: FrameParserOptions, splitAt: number[] = []): { frames: ParsedFrame[]; error?: { closeCode: number; kind: string } } {
  const parser = new FrameParser(options);
  const frames: ParsedFrame[] = [];
  let current: { fin: boolean; rsv: number; opcode: number; parts: Uint8Array[] } | undefined;
  let error: { closeCode: number; kind: string } | undefined;
  const drain = (): void => {
    for (let ev: ParserEvent | undefined = parser.next(); ev; ev = parser.next()) {
      switch (ev.type) {
        case 'frame-start': current = { fin: ev.header.fin, rsv: ev.header.rsv, opcode: ev.header.opcode, parts: [] }; break;
        case 'frame-data': current!.parts.push(ev.data.slice()); break;
        case 'frame-end': frames.push({ fin: current!.fin, rsv: current!.rsv, opcode: current!.opcode, payload: current!.parts.map(toHex).join('') }); current = undefined; break;
        case 'control': frames.push({ fin: ev.header.fin, rsv: ev.header.rsv, opcode: ev.header.opcode, payload: toHex(ev.payload) }); break;
        case 'error': error = { closeCode: ev.violation.closeCode, kind: ev.violation.kind }; break;
      }
    }
  };
  const copy = bytes.slice(); // the parser unmasks in place
  let at = 0;
  for (const cut of [...splitAt, copy.length]) {
    parser.push(copy.subarray(at, cut));
    at = cut;
    drain();
  }
  return error ? { frames, error } : { frames };
}

export const failureOf = (bytes: Uint8Array, options: FrameParserOptions) => parseAll(bytes, options).error;

/** A frame as bytes: masked with `key` when given. */
export function frame(opcode: number, payload: Uint8Array, opts: { fin?: boolean; rsv?: number; key?: Uint8Array; len?: 7 | 16 | 64 } = {}): Uint8Array {
  const fin = opts.fin ?? true;
  const n = payload.length;
  const width = opts.len ?? (n < 126 ? 7 : n < 65536 ? 16 : 64);
  const head: number[] = [(fin ? 0x80 : 0) | ((opts.rsv ?? 0) << 4) | opcode];
  const m = opts.key ? 0x80 : 0;
  if (width === 7) head.push(m | n);
  else if (width === 16) head.push(m | 126, n >> 8, n & 255);
  else head.push(m | 127, 0, 0, 0, 0, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
  const body = payload.slice();
  if (opts.key) {
    head.push(...opts.key);
    for (let i = 0; i < body.length; i++) body[i]! ^= opts.key[i & 3]!;
  }
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}
