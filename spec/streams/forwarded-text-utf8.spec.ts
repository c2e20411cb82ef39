// RFC 6455 §8.1 and §5.6 for forwarded text: an echo (or a proxy) forwards a text message as
// its bytes arrive, yet only validated text may leave the connection, and a failure must end
// between frames with a close frame (§5.4: a control frame goes between the frames of a
// message, never inside one). Checked byte for byte on what the peer receives, parsed with
// the library's frame parser, for a server and a client connection forwarding, through
// `readable.pipeTo(writable)` (the pipe's fast path) and `for await … send(message)`.
import fc from 'fast-check';
import { isValidUtf8 } from '../../lib/codec/utf8-validator';
import { concat, hex, toHex } from '../helpers/connection-pair';
import { closeCode, frameTo, rawPeer, received, until, type RawPeer, type Received, type Role, type WireFrame, echo, type EchoMode } from '../helpers/raw-peer';

const TEXT = 0x1;
const CONT = 0x0;
const CLOSE = 0x8;

type Mode = EchoMode;


const made: RawPeer[] = [];
function echoPeer(role: Role, mode: Mode): RawPeer {
  const rp = rawPeer(role);
  made.push(rp);
  echo(rp.conn, mode);
  return rp;
}

afterEach(() => {
  for (const rp of made.splice(0)) rp.peer.destroy();
});

const isData = (f: WireFrame): boolean => f.opcode < 0x8;

/**
 * What every outcome must satisfy: the bytes parse (nothing written inside a frame), no frame
 * is left open, nothing follows a close frame, and every text frame carries only complete,
 * valid code points (so the text sent so far is valid whatever comes next).
 */
function expectClean(rx: Received): void {
  expect(rx.error).toBeUndefined();
  expect(rx.open).toBe(false);
  const close = rx.frames.findIndex((f) => f.opcode === CLOSE);
  if (close >= 0) expect(close).toBe(rx.frames.length - 1);
  for (const f of rx.frames.filter(isData)) {
    expect({ frame: toHex(f.payload), valid: isValidUtf8(f.payload) }).toEqual({ frame: toHex(f.payload), valid: true });
  }
}

/** The peer got a whole message: its payload (the frames' concatenation). */
async function echoed(rp: RawPeer): Promise<{ payload: Uint8Array; frames: WireFrame[] }> {
  await until(() => received(rp).frames.some((f) => isData(f) && f.fin), 2000, 'the echoed message');
  const rx = received(rp);
  expectClean(rx);
  const frames = rx.frames.filter(isData);
  expect(frames[0]!.opcode).toBe(TEXT);
  return { payload: concat(frames.map((f) => f.payload)), frames };
}

/** The peer got a close frame `code`: what came before it, checked clean. */
async function closedWith(rp: RawPeer, code: number): Promise<WireFrame[]> {
  await until(() => received(rp).frames.some((f) => f.opcode === CLOSE), 2000, 'the close frame');
  const rx = received(rp);
  expectClean(rx);
  const last = rx.frames[rx.frames.length - 1]!;
  expect(last.opcode).toBe(CLOSE);
  expect(closeCode(last)).toBe(code);
  // No text message was completed: its final frame would have claimed it valid.
  expect(rx.frames.filter((f) => isData(f) && f.fin)).toEqual([]);
  return rx.frames.filter(isData);
}

/** Splits `bytes` into pieces of `size` (the last may be shorter); one empty piece for none. */
function pieces(bytes: Uint8Array, size: number): Uint8Array[] {
  if (bytes.length === 0) return [bytes];
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

const KOSME = 'cebae1bdb9cf83cebcceb5'; // κόσμε, RFC 6455-era Autobahn 6.x payload

describe.each([
  ['server', 'pipeTo'],
  ['server', 'send'],
  ['client', 'pipeTo'],
  ['client', 'send'],
] as Array<[Role, Mode]>)('forwarded text, a %s connection echoing through %s', (role, mode) => {
  // ---- valid text: echoed byte for byte ----

  it('a one-frame text message that arrives in one read goes back as the same one frame', async () => {
    const rp = echoPeer(role, mode);
    rp.peer.write([frameTo(role, TEXT, hex(KOSME))]);
    const { frames } = await echoed(rp);
    expect(frames.map((f) => [f.opcode, f.fin, toHex(f.payload)])).toEqual([[TEXT, true, KOSME]]);
    // A server's echo is byte for byte what an unchanged forwarder sent before: 81 0b + payload.
    if (role === 'server') expect(toHex(concat(rp.transport.written))).toBe(`810b${KOSME}`);
  });

  it('a frame split inside a code point across two reads: the partial code point waits for its end', async () => {
    const wire = frameTo(role, TEXT, hex(KOSME));
    const head = wire.length - 11;
    // After "κ" and the first byte of "ό" (e1 of e1 bd b9).
    const rp = echoPeer(role, mode);
    rp.peer.write([wire.subarray(0, head + 3), wire.subarray(head + 3)]);
    const { frames } = await echoed(rp);
    expect(frames.map((f) => [f.opcode, f.fin, toHex(f.payload)])).toEqual([
      [TEXT, false, 'ceba'],
      [CONT, true, 'e1bdb9cf83cebcceb5'],
    ]);
  });

  it('a read that ends after a lead byte sends nothing until the code point completes', async () => {
    const wire = frameTo(role, TEXT, hex(KOSME));
    const head = wire.length - 11;
    const rp = echoPeer(role, mode);
    rp.peer.write([wire.subarray(0, head + 1)]);
    await new Promise((r) => setTimeout(r, 5));
    // Nothing can go after the first read (ce alone is no code point), not even a header.
    expect(rp.transport.written).toEqual([]);
    rp.peer.write([wire.subarray(head + 1)]);
    const { frames } = await echoed(rp);
    expect(frames.map((f) => [f.opcode, f.fin, toHex(f.payload)])).toEqual([[TEXT, true, KOSME]]);
  });

  it('a code point split across two fragments is echoed whole, in frames of complete code points', async () => {
    const payload = hex(KOSME);
    for (const oneRead of [true, false]) {
      const rp = echoPeer(role, mode);
      const f1 = frameTo(role, TEXT, payload.subarray(0, 3), { fin: false }); // ce ba e1
      const f2 = frameTo(role, CONT, payload.subarray(3));
      rp.peer.write(oneRead ? [concat([f1, f2])] : [f1, f2]);
      const out = await echoed(rp);
      expect(toHex(out.payload)).toBe(KOSME);
      expect(out.frames.map((f) => [f.opcode, f.fin, toHex(f.payload)])).toEqual([
        [TEXT, false, 'ceba'],
        [CONT, true, 'e1bdb9cf83cebcceb5'],
      ]);
    }
  });

  it('Autobahn 6.2.4: κόσμε in fragments of 1 octet, ending off code point boundaries', async () => {
    const payload = hex(KOSME);
    const frames = pieces(payload, 1).map((p, i, all) => frameTo(role, i === 0 ? TEXT : CONT, p, { fin: i === all.length - 1 }));
    for (const reads of [[concat(frames)], frames]) {
      const rp = echoPeer(role, mode);
      rp.peer.write(reads);
      const out = await echoed(rp);
      expect(toHex(out.payload)).toBe(KOSME);
      // One frame per code point: each complete as its last byte arrives.
      expect(out.frames.map((f) => toHex(f.payload))).toEqual(['ceba', 'e1bdb9', 'cf83', 'cebc', 'ceb5']);
    }
  });

  it('Autobahn 6.1.2/6.1.3: empty fragments are echoed as they came', async () => {
    for (const parts of [['', '', ''], ['', 'middle', '']]) {
      const rp = echoPeer(role, mode);
      const enc = new TextEncoder();
      rp.peer.write([concat(parts.map((p, i) => frameTo(role, i === 0 ? TEXT : CONT, enc.encode(p), { fin: i === parts.length - 1 })))]);
      const out = await echoed(rp);
      expect(out.frames.map((f) => [f.opcode, f.fin, new TextDecoder().decode(f.payload)])).toEqual(
        parts.map((p, i) => [i === 0 ? TEXT : CONT, i === parts.length - 1, p]),
      );
    }
  });

  it('an empty fragment while a partial code point is held back: the held-back bytes go once, completed', async () => {
    const rp = echoPeer(role, mode);
    rp.peer.write([
      frameTo(role, TEXT, hex('61e2'), { fin: false }),
      frameTo(role, CONT, new Uint8Array(0), { fin: false }),
      frameTo(role, CONT, hex('82ac')),
    ]);
    const out = await echoed(rp);
    expect(out.frames.map((f) => [f.opcode, f.fin, toHex(f.payload)])).toEqual([
      [TEXT, false, '61'],
      [CONT, false, ''],
      [CONT, true, 'e282ac'],
    ]);
  });

  it('an empty text message is echoed as one empty final frame', async () => {
    const rp = echoPeer(role, mode);
    rp.peer.write([frameTo(role, TEXT, new Uint8Array(0))]);
    const out = await echoed(rp);
    expect(out.frames.map((f) => [f.opcode, f.fin, f.payload.length])).toEqual([[TEXT, true, 0]]);
  });

  it('messages after a split one are echoed in order, each from its own first frame', async () => {
    const rp = echoPeer(role, mode);
    const enc = new TextEncoder();
    rp.peer.write([
      frameTo(role, TEXT, hex('e282'), { fin: false }), frameTo(role, CONT, hex('ac')), // "€" split across fragments
      frameTo(role, TEXT, enc.encode('next')),
    ]);
    await until(() => received(rp).frames.filter((f) => isData(f) && f.fin).length === 2);
    const rx = received(rp);
    expectClean(rx);
    expect(rx.frames.map((f) => [f.opcode, f.fin, toHex(f.payload)])).toEqual([
      [TEXT, true, 'e282ac'],
      [TEXT, true, toHex(enc.encode('next'))],
    ]);
  });

  // ---- invalid text: nothing invalid leaves, the close frame goes between frames ----

  it('§8.1: a one-frame text message of the single byte 0xce: the peer gets no text frame, only a close 1007', async () => {
    const rp = echoPeer(role, mode);
    rp.peer.write([frameTo(role, TEXT, hex('ce'))]);
    expect(await closedWith(rp, 1007)).toEqual([]);
    expect(received(rp).frames).toHaveLength(1);
  });

  it('Autobahn 6.4.3: a frame turning invalid halfway, in two reads: the valid text, then a close 1007 on a frame boundary', async () => {
    const wire = frameTo(role, TEXT, hex(`${KOSME}f4908080`));
    const rp = echoPeer(role, mode);
    rp.peer.write([wire.subarray(0, wire.length - 4), wire.subarray(wire.length - 4)]);
    const frames = await closedWith(rp, 1007);
    expect(frames.map((f) => [f.opcode, f.fin, toHex(f.payload)])).toEqual([[TEXT, false, KOSME]]);
    // Byte-exact for a server: the valid part as a non-final frame, then the close frame.
    if (role === 'server') expect(toHex(concat(rp.transport.written)).startsWith(`010b${KOSME}88`)).toBe(true);
  });

  it('Autobahn 6.4.3/6.4.4: fail-fast inside one frame in three reads, cut after the bad lead byte or not', async () => {
    const payload = hex(`${KOSME}f4908080656469746564`);
    for (const cuts of [[11, 15], [12, 13]]) {
      const wire = frameTo(role, TEXT, payload);
      const head = wire.length - payload.length;
      const rp = echoPeer(role, mode);
      rp.peer.write([wire.subarray(0, head + cuts[0]!), wire.subarray(head + cuts[0]!, head + cuts[1]!), wire.subarray(head + cuts[1]!)]);
      const frames = await closedWith(rp, 1007);
      // The f4 that the second cut leaves at the first read's end is held back, never sent.
      expect(frames.map((f) => [f.opcode, f.fin, toHex(f.payload)])).toEqual([[TEXT, false, KOSME]]);
    }
  });

  it('Autobahn 6.4.1/6.4.2: fail-fast across fragments, the bad lead byte at a fragment end or not', async () => {
    for (const split of [[11, 15], [12, 13]]) {
      const payload = hex(`${KOSME}f4908080656469746564`);
      const parts = [payload.subarray(0, split[0]), payload.subarray(split[0], split[1]), payload.subarray(split[1])];
      const rp = echoPeer(role, mode);
      rp.peer.write(parts.map((p, i) => frameTo(role, i === 0 ? TEXT : CONT, p, { fin: i === 2 })));
      const frames = await closedWith(rp, 1007);
      expect(frames.map((f) => [f.opcode, f.fin, toHex(f.payload)])).toEqual([[TEXT, false, KOSME]]);
    }
  });

  it('a message ending inside a code point after valid fragments: the valid part, then a close 1007', async () => {
    const rp = echoPeer(role, mode);
    rp.peer.write([frameTo(role, TEXT, hex('61ce'), { fin: false }), frameTo(role, CONT, new Uint8Array(0))]);
    const frames = await closedWith(rp, 1007);
    expect(frames.map((f) => [f.opcode, f.fin, toHex(f.payload)])).toEqual([[TEXT, false, '61']]);
  });

  it('a final fragment that leaves a code point incomplete: its complete part goes, the rest never does', async () => {
    const rp = echoPeer(role, mode);
    rp.peer.write([frameTo(role, TEXT, hex('ceba'), { fin: false }), frameTo(role, CONT, hex('cf83e1bd'))]);
    const frames = await closedWith(rp, 1007);
    expect(frames.map((f) => toHex(f.payload)).join('')).toBe('cebacf83');
  });
});

// ---- Autobahn 6.x payloads, in every delivery: one frame and one read, one byte per read,
// one-octet fragments ----

const VALID = [
  '', '48656c6c6f2dc2b540c39fc3b6c3a4c3bcc3a0c3a12d5554462d382121', KOSME, 'ceba', 'cebae1bdb9',
  '00', 'c280', 'e0a080', 'f0908080', '7f', 'dfbf', 'efbfbf', 'f48fbfbf', 'ed9fbf', 'ee8080', 'efbfbd',
  'efbfbe', 'f09fbfbe', 'f48fbfbe', 'f09f9882e282ac61',
];
const INVALID = [
  'ce', 'cebae1', 'cebae1bd', 'cebae1bdb9cf', `${KOSME}eda080656469746564`, `${KOSME}f4908080656469746564`,
  'f888808080', 'fc8480808080', 'f7bfbfbf', 'fbbfbfbfbf', 'f4908080', '80', 'bf', '80bf', '80bf80bf80',
  'c020', 'e08020', 'c0', 'e080', 'f08080', 'df', 'efbf', 'f7bfbf', 'c0e080f08080', 'fe', 'ff', 'fefeffff',
  'c0af', 'e080af', 'f08080af', 'c1bf', 'e09fbf', 'f08fbfbf', 'c080', 'e08080', 'f0808080',
  'eda080', 'edadbf', 'edae80', 'edafbf', 'edb080', 'edbe80', 'edbfbf', 'eda080edb080', 'edafbfedbfbf', '48656c6c6fce',
];

type Delivery = 'one read' | 'a byte per read' | '1-octet fragments';
const DELIVERIES: Delivery[] = ['one read', 'a byte per read', '1-octet fragments'];

function deliver(rp: RawPeer, role: Role, payload: Uint8Array, how: Delivery): void {
  if (how === '1-octet fragments') {
    rp.peer.write([concat(pieces(payload, 1).map((p, i, all) => frameTo(role, i === 0 ? TEXT : CONT, p, { fin: i === all.length - 1 })))]);
    return;
  }
  const wire = frameTo(role, TEXT, payload);
  rp.peer.write(how === 'one read' ? [wire] : pieces(wire, 1));
}

describe.each([
  ['server', 'pipeTo'],
  ['server', 'send'],
  ['client', 'pipeTo'],
  ['client', 'send'],
] as Array<[Role, Mode]>)('Autobahn 6.x UTF-8 payloads forwarded by a %s connection through %s', (role, mode) => {
  it.each(DELIVERIES)('valid text is echoed byte for byte, every frame complete code points (%s)', async (how) => {
    for (const h of VALID) {
      const rp = echoPeer(role, mode);
      deliver(rp, role, hex(h), how);
      const out = await echoed(rp);
      expect(toHex(out.payload)).toBe(h);
      if (how === 'one read') expect(out.frames).toHaveLength(1);
    }
  });

  it.each(DELIVERIES)('invalid text: only a valid prefix in non-final frames, then a close 1007 (%s)', async (how) => {
    for (const h of INVALID) {
      const rp = echoPeer(role, mode);
      deliver(rp, role, hex(h), how);
      const frames = await closedWith(rp, 1007);
      expect(h.startsWith(toHex(concat(frames.map((f) => f.payload))))).toBe(true);
    }
  });
});

// ---- properties: any text, fragmented and read anywhere ----

/** Cut points (sorted, inside 1…n−1) from random fractions. */
const cutsOf = (n: number, fractions: number[]): number[] =>
  [...new Set(fractions.map((x) => Math.floor(x * n)).filter((c) => c > 0 && c < n))].sort((a, b) => a - b);

/** Cut points that may repeat: empty fragments between them. */
const cutsWithEmpty = (n: number, fractions: number[]): number[] =>
  fractions.map((x) => Math.floor(x * (n + 1))).filter((c) => c <= n).sort((a, b) => a - b);

function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const c of [...cuts, bytes.length]) {
    out.push(bytes.subarray(at, c));
    at = c;
  }
  return out;
}

const fraction = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });

describe.each(['server', 'client'] as Role[])('forwarded text by a %s connection, any text cut anywhere', (role) => {
  it('valid text in random fragments and random reads is echoed byte for byte, in frames of complete code points', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 40 }), fc.array(fraction, { maxLength: 6 }), fc.array(fraction, { maxLength: 8 }), fc.constantFrom<Mode>('pipeTo', 'send'),
        async (s, fragmentCuts, readCuts, mode) => {
          const payload = new TextEncoder().encode(s);
          const fragments = splitAt(payload, cutsWithEmpty(payload.length, fragmentCuts));
          const wire = concat(fragments.map((p, i) => frameTo(role, i === 0 ? TEXT : CONT, p, { fin: i === fragments.length - 1 })));
          const rp = echoPeer(role, mode);
          rp.peer.write(splitAt(wire, cutsOf(wire.length, readCuts)));
          const out = await echoed(rp);
          expect(toHex(out.payload)).toBe(toHex(payload));
          rp.peer.destroy();
        }),
      { numRuns: 150 },
    );
  });

  it('text turned invalid anywhere never leaves: a valid prefix, then a close 1007 between frames', async () => {
    const bad = fc.constantFrom('80', 'c0af', 'eda080', 'f4908080', 'fe', 'e080', 'c2', 'f0');
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 30 }), bad, fc.string({ maxLength: 8 }), fc.array(fraction, { maxLength: 5 }), fc.array(fraction, { maxLength: 8 }), fc.constantFrom<Mode>('pipeTo', 'send'),
        async (before, badHex, after, fragmentCuts, readCuts, mode) => {
          const enc = new TextEncoder();
          // A lone lead byte ('c2', 'f0') is invalid only if nothing continues it: end the message there.
          const payload = concat([enc.encode(before), hex(badHex), badHex === 'c2' || badHex === 'f0' ? new Uint8Array(0) : enc.encode(after)]);
          const fragments = splitAt(payload, cutsOf(payload.length, fragmentCuts));
          const wire = concat(fragments.map((p, i) => frameTo(role, i === 0 ? TEXT : CONT, p, { fin: i === fragments.length - 1 })));
          const rp = echoPeer(role, mode);
          rp.peer.write(splitAt(wire, cutsOf(wire.length, readCuts)));
          const frames = await closedWith(rp, 1007);
          expect(toHex(payload).startsWith(toHex(concat(frames.map((f) => f.payload))))).toBe(true);
          rp.peer.destroy();
        }),
      { numRuns: 150 },
    );
  });
});
