// The protocol is indifferent to how the transport chunks its input: the same bytes split
// anywhere give the same events and the same bytes to send (RFC 6455 frames are a byte stream).
import fc from 'fast-check';
import { parseAll } from '../codec/helpers';
import { closePayload, concat, Endpoint, frame, hex, mergeData, ROLES, toHex, utf8, type Ev, type Role } from './helpers';

interface Run {
  events: Ev[];
  output: string;
}

/**
 * Feeds `bytes` cut at `cuts`, draining events after each piece; takes the output once, at the end.
 * A text frame with invalid UTF-8 fails at the piece holding the bad byte (fail-fast), so how
 * much of that frame was delivered before depends on the cuts: that last `frame-data` is dropped.
 */
function run(role: Role, bytes: Uint8Array, cuts: readonly number[]): Run {
  const e = new Endpoint(role);
  const pieces: Uint8Array[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    pieces.push(bytes.subarray(at, cut));
    at = cut;
  }
  const events = mergeData(e.receiveRaw(...pieces));
  const i = events.findIndex((ev) => ev.type === 'failed');
  if (i > 0 && events[i - 1]!.type === 'frame-data') events.splice(i - 1, 1);
  return { events, output: e.output() };
}

/** A stream a peer of `role` could send, exercising data, fragments, interleaved control frames and the close. */
function fixture(role: Role): Uint8Array {
  const key = role === 'server' ? hex('a1b2c3d4') : undefined;
  const f = (opcode: number, payload: Uint8Array | string, fin = true) => frame(opcode, typeof payload === 'string' ? utf8(payload) : payload, { fin, key });
  return concat([
    f(0x1, hex('48c3'), false), // "H" and half of "é"
    f(0x9, 'ping-1'),
    f(0x0, hex('a9e282'), false), // the rest of "é", two thirds of "€"
    f(0xa, ''),
    f(0x0, hex('ac')),
    f(0x2, new Uint8Array(130).map((_, i) => i)), // a 16-bit length
    f(0x1, ''),
    f(0x9, 'ping-2'),
    f(0x8, closePayload(1000, 'bye')),
    f(0x1, 'ignored after the close'),
  ]);
}

describe.each(ROLES)('Protocol (%s role): input split anywhere gives the same events and output', (role) => {
  it('the fixture stream is what it should be, read whole', () => {
    const whole = run(role, fixture(role), []);
    expect(whole.events.map((ev) => ev.type)).toEqual([
      'frame-start', 'frame-data', 'frame-end', 'ping', 'frame-start', 'frame-data', 'frame-end', 'pong', 'frame-start', 'frame-data', 'frame-end',
      'frame-start', 'frame-data', 'frame-end', 'frame-start', 'frame-end', 'ping', 'close',
    ]);
    const e = new Endpoint(role);
    // Both pings arrived before any output was taken: one pong, with the second ping's payload.
    expect(whole.output).toBe(e.sent(0xa, 'ping-2') + e.sentClose(1000, 'bye'));
  });

  it('split in two at every byte offset', () => {
    const bytes = fixture(role);
    const whole = run(role, bytes, []);
    for (let at = 1; at < bytes.length; at++) expect({ at, ...run(role, bytes, [at]) }).toEqual({ at, ...whole });
  });

  it('split in three at every pair of byte offsets', () => {
    const bytes = fixture(role);
    const whole = run(role, bytes, []);
    for (let a = 1; a < bytes.length; a++) {
      for (let b = a + 1; b < bytes.length; b++) {
        const split = run(role, bytes, [a, b]);
        if (split.output !== whole.output || JSON.stringify(split.events) !== JSON.stringify(whole.events)) {
          expect({ cuts: [a, b], ...split }).toEqual({ cuts: [a, b], ...whole });
        }
      }
    }
  });

  it('fed one byte at a time', () => {
    const bytes = fixture(role);
    expect(run(role, bytes, Array.from({ length: bytes.length - 1 }, (_, i) => i + 1))).toEqual(run(role, bytes, []));
  });

  it('fails the same way wherever a text frame with invalid UTF-8 is cut', () => {
    const e = new Endpoint(role);
    const bytes = concat([e.frame(0x1, 'ok'), e.frame(0x1, hex('41 42 e282 ff 43 44')), e.frame(0x1, 'never')]);
    const whole = run(role, bytes, []);
    expect(whole.events[whole.events.length - 1]).toEqual({ type: 'failed', code: 1007, kind: 'INVALID_UTF8', reason: 'Text message is not valid UTF-8' });
    for (let at = 1; at < bytes.length; at++) expect({ at, ...run(role, bytes, [at]) }).toEqual({ at, ...whole });
  });
});

// ---- property: any stream of frames, any chunking ----

interface Control {
  opcode: 0x9 | 0xa;
  payload: Uint8Array;
}
interface Message {
  opcode: 0x1 | 0x2;
  fragments: Uint8Array[];
  /** Control frames sent after fragment i (not after the last one). */
  between: Control[][];
}
type Item = Message | Control;

const controlArb: fc.Arbitrary<Control> = fc.record({
  opcode: fc.constantFrom(0x9 as const, 0xa as const),
  payload: fc.oneof(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ minLength: 120, maxLength: 125 })),
});

/** Cuts `bytes` into pieces at `cuts` (taken modulo the length): characters may be split between fragments. */
const cutInto = (bytes: Uint8Array, cuts: number[]): Uint8Array[] => {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of points) {
    out.push(bytes.subarray(at, p));
    at = p;
  }
  out.push(bytes.subarray(at));
  return out;
};

const messageArb: fc.Arbitrary<Message> = fc.record({
  opcode: fc.constantFrom(0x1 as const, 0x2 as const),
  text: fc.string({ unit: 'binary', maxLength: 30 }),
  binary: fc.uint8Array({ maxLength: 300 }),
  cuts: fc.array(fc.nat(), { maxLength: 4 }),
  between: fc.array(fc.array(controlArb, { maxLength: 2 }), { maxLength: 4 }),
}).map(({ opcode, text, binary, cuts, between }) => ({ opcode, fragments: cutInto(opcode === 0x1 ? utf8(text) : binary, cuts), between }));

const itemArb: fc.Arbitrary<Item> = fc.oneof(messageArb, controlArb);

/** How the stream ends: not at all, with a close, or with a violation; bytes after that are ignored. */
const endingArb = fc.oneof(
  fc.constant<{ kind: 'none' }>({ kind: 'none' }),
  fc.record({ kind: fc.constant('close' as const), code: fc.constantFrom(1000, 1001, 1011, 3000, 4999), reason: fc.string({ maxLength: 20 }) }),
  fc.record({ kind: fc.constantFrom('close-1-byte' as const, 'close-bad-code' as const, 'bad-utf8' as const, 'reserved-opcode' as const, 'rsv' as const, 'wrong-mask' as const, 'stray-continuation' as const) }),
);

type Ending = { kind: 'none' } | { kind: 'close'; code: number; reason: string } | { kind: 'close-1-byte' | 'close-bad-code' | 'bad-utf8' | 'reserved-opcode' | 'rsv' | 'wrong-mask' | 'stray-continuation' };

function encodeStream(role: Role, items: readonly Item[], ending: Ending, trailing: Uint8Array, keys: readonly Uint8Array[]): Uint8Array {
  let k = 0;
  const key = (): Uint8Array | undefined => (role === 'server' ? keys[k++ % keys.length] : undefined);
  const parts: Uint8Array[] = [];
  const control = (c: Control) => parts.push(frame(c.opcode, c.payload, { key: key() }));
  for (const item of items) {
    if (!('fragments' in item)) {
      control(item);
      continue;
    }
    const m = item;
    m.fragments.forEach((payload, i) => {
      const last = i === m.fragments.length - 1;
      parts.push(frame(i === 0 ? m.opcode : 0x0, payload, { fin: last, key: key() }));
      if (!last) for (const c of m.between[i] ?? []) control(c);
    });
  }
  switch (ending.kind) {
    case 'none':
      return concat(parts);
    case 'close':
      parts.push(frame(0x8, closePayload(ending.code, ending.reason), { key: key() }));
      break;
    case 'close-1-byte':
      parts.push(frame(0x8, hex('03'), { key: key() }));
      break;
    case 'close-bad-code':
      parts.push(frame(0x8, closePayload(1005), { key: key() }));
      break;
    case 'bad-utf8':
      parts.push(frame(0x1, hex('c3a9 f09f98 41'), { key: key() }));
      break;
    case 'reserved-opcode':
      parts.push(frame(0x7, hex('00'), { key: key() }));
      break;
    case 'rsv':
      parts.push(frame(0x2, hex('00'), { rsv: 0b010, key: key() }));
      break;
    case 'wrong-mask':
      parts.push(frame(0x2, hex('00'), { key: role === 'server' ? undefined : hex('01020304') }));
      break;
    case 'stray-continuation':
      parts.push(frame(0x0, hex('00'), { key: key() }));
      break;
  }
  parts.push(trailing);
  return concat(parts);
}

const streamArb = (role: Role) =>
  fc.record({
    items: fc.array(itemArb, { maxLength: 8 }),
    ending: endingArb,
    trailing: fc.uint8Array({ maxLength: 40 }),
    keys: fc.array(fc.uint8Array({ minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 4 }),
    cuts: fc.array(fc.nat(), { maxLength: 12 }),
  }).map(({ items, ending, trailing, keys, cuts }) => {
    const bytes = encodeStream(role, items, ending as Ending, trailing, keys);
    const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
    return { bytes, cuts: points, ending: ending as Ending };
  });

describe.each(ROLES)('Protocol (%s role): property', (role) => {
  it('any stream of frames cut anywhere gives the events and output of the stream read whole', () => {
    fc.assert(
      fc.property(streamArb(role), ({ bytes, cuts, ending }) => {
        const whole = run(role, bytes, []);
        expect(run(role, bytes, cuts)).toEqual(whole);
        // The stream ends as it was made to: a close, a failure, or neither.
        const last = whole.events[whole.events.length - 1];
        if (ending.kind === 'close') expect(last).toEqual({ type: 'close', code: ending.code, reason: ending.reason });
        else if (ending.kind !== 'none') expect(last?.type).toBe('failed');
        else expect(whole.events.some((ev) => ev.type === 'failed' || ev.type === 'close')).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('taking the output after every read, each pong answers a ping, in order, and the last ping is answered', () => {
    fc.assert(
      fc.property(streamArb(role), ({ bytes, cuts }) => {
        const e = new Endpoint(role);
        const pings: string[] = [];
        const out: Uint8Array[] = [];
        let at = 0;
        for (const cut of [...cuts, bytes.length]) {
          e.p.receive(bytes.slice(at, cut));
          at = cut;
          for (let ev = e.p.nextEvent(); ev; ev = e.p.nextEvent()) if (ev.type === 'ping') pings.push(toHex(ev.data));
          out.push(...e.p.takeOutput());
        }
        // Our frames as the peer reads them: a server's unmasked (peer is a client), a client's masked.
        const sent = parseAll(concat(out), { role: role === 'server' ? 'client' : 'server' });
        expect(sent.error).toBeUndefined();
        const pongs = sent.frames.filter((f) => f.opcode === 0xa).map((f) => f.payload);
        // Never more pongs than reads, each for a ping, in order; the last ping always answered.
        expect(pongs.length).toBeLessThanOrEqual(cuts.length + 1);
        let i = 0;
        for (const p of pings) if (i < pongs.length && pongs[i] === p) i++;
        expect(i).toBe(pongs.length);
        if (pings.length > 0) expect(pongs[pongs.length - 1]).toBe(pings[pings.length - 1]);
        else expect(pongs).toEqual([]);
        // A close frame, if any, is the last frame sent.
        const closeAt = sent.frames.findIndex((f) => f.opcode === 0x8);
        if (closeAt !== -1) expect(closeAt).toBe(sent.frames.length - 1);
      }),
      { numRuns: 300 },
    );
  });
});
