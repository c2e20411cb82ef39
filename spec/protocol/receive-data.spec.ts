// RFC 6455 §5.1–§5.4, §5.6, §8.1 and §10.4 for received data frames: masking, framing,
// fragmentation, reserved bits and opcodes, UTF-8 validation of text, size limits.
import { ProtocolViolation } from '../../lib/codec/violation';
import type { Extension } from '../../lib/protocol/extension';
import { Protocol } from '../../lib/protocol/protocol';
import { data, end, Endpoint, failed, frame, h, hex, KEY, ROLES, start, toHex, utf8, whole } from './helpers';

const TEXT = 0x1;
const BINARY = 0x2;
const CONT = 0x0;

const extension = (rsvBits: number, more: Partial<Extension> = {}): Extension => ({
  name: `x-ext-${rsvBits}`,
  rsvBits,
  checkIncomingFrame: () => undefined,
  createDecoder: () => undefined,
  createEncoder: () => undefined,
  close: () => undefined,
  ...more,
});

describe('Protocol: RFC 6455 §5.7 examples', () => {
  it('a client receives the unmasked "Hello" text frame', () => {
    const e = new Endpoint('client');
    expect(e.receive(hex('810548656c6c6f'))).toEqual(whole(TEXT, 'Hello'));
    expect(e.p.hasOutput).toBe(false);
  });
  it('a server receives the masked "Hello" text frame', () => {
    const e = new Endpoint('server');
    expect(e.receive(hex('818537fa213d7f9f4d5158'))).toEqual(whole(TEXT, 'Hello'));
  });
  it('a client receives the fragmented unmasked "Hel" + "lo"', () => {
    const e = new Endpoint('client');
    expect(e.receive(hex('010348656c 80026c6f'))).toEqual([start(TEXT, false), data('Hel'), end(false), start(CONT, true, { messageOpcode: TEXT }), data('lo'), end(true)]);
  });
  it('a client receives the 256-byte and 64 KiB unmasked binary frames (16- and 64-bit lengths)', () => {
    const e = new Endpoint('client');
    expect(e.receive(new Uint8Array([0x82, 0x7e, 0x01, 0x00, ...new Uint8Array(256)]))).toEqual([start(BINARY), data('00'.repeat(256), true), end()]);
    expect(e.receive(new Uint8Array([0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0, ...new Uint8Array(65536)]))).toEqual([start(BINARY), data('00'.repeat(65536), true), end()]);
  });
});

describe.each(ROLES)('Protocol (%s role): data frames', (role) => {
  it('reports a text frame as start, data, end, and owes nothing', () => {
    const e = new Endpoint(role);
    expect(e.receive(e.frame(TEXT, 'café'))).toEqual(whole(TEXT, 'café'));
    expect(e.p.hasOutput).toBe(false);
    expect(e.p.receivingMessage).toBe(false);
  });

  it('reports a binary frame, any bytes at all', () => {
    const e = new Endpoint(role);
    const payload = new Uint8Array(300).map((_, i) => 255 - (i & 255));
    expect(e.receive(e.frame(BINARY, payload))).toEqual([start(BINARY), data(toHex(payload), true), end()]);
  });

  it('reports an empty frame as start and end, without data', () => {
    const e = new Endpoint(role);
    expect(e.receive(e.frame(TEXT), e.frame(BINARY))).toEqual([start(TEXT), end(), start(BINARY), end()]);
  });

  it('accepts a non-minimal length encoding (126 for 5 bytes), as ws, Autobahn and browsers do', () => {
    const e = new Endpoint(role);
    expect(e.receive(e.frame(TEXT, 'hello', { len: 16 }), e.frame(TEXT, 'world', { len: 64 }))).toEqual([...whole(TEXT, 'hello'), ...whole(TEXT, 'world')]);
  });

  it('gives frame-start as soon as the header is read, payload as it arrives (streaming)', () => {
    const e = new Endpoint(role);
    const bytes = e.frame(BINARY, new Uint8Array([1, 2, 3, 4]));
    const headerLength = bytes.length - 4;
    expect(e.receiveRaw(bytes.subarray(0, headerLength))).toEqual([start(BINARY)]);
    expect(e.receiveRaw(bytes.subarray(headerLength, headerLength + 3))).toEqual([data('010203', true)]);
    expect(e.p.receivingMessage).toBe(true);
    expect(e.receiveRaw(bytes.subarray(headerLength + 3))).toEqual([data('04', true), end()]);
    expect(e.p.receivingMessage).toBe(false);
  });

  it('reports bufferedAmount: received bytes not yet turned into events', () => {
    const e = new Endpoint(role);
    const bytes = e.frame(TEXT, 'abc');
    e.p.receive(bytes.slice());
    expect(e.p.bufferedAmount).toBe(bytes.length);
    expect(e.p.nextEvent()?.type).toBe('frame-start');
    expect(e.p.bufferedAmount).toBe(3);
    e.p.nextEvent();
    expect(e.p.bufferedAmount).toBe(0);
  });

  describe('fragmentation (§5.4)', () => {
    it('reports a fragmented message frame by frame, continuations carrying the message opcode', () => {
      const e = new Endpoint(role);
      expect(e.receive(e.frame(BINARY, 'a', { fin: false }), e.frame(CONT, 'b', { fin: false }), e.frame(CONT, '', { fin: false }), e.frame(CONT, 'c'))).toEqual([
        start(BINARY, false), data('a'), end(false),
        start(CONT, false, { messageOpcode: BINARY }), data('b'), end(false),
        start(CONT, false, { messageOpcode: BINARY }), end(false),
        start(CONT, true, { messageOpcode: BINARY }), data('c'), end(true),
      ]);
    });

    it('says a message is being received from its first frame until its final one', () => {
      const e = new Endpoint(role);
      e.receive(e.frame(TEXT, 'a', { fin: false }));
      expect(e.p.receivingMessage).toBe(true);
      e.receive(e.frame(CONT, 'b', { fin: false }));
      expect(e.p.receivingMessage).toBe(true);
      e.receive(e.frame(CONT, 'c'));
      expect(e.p.receivingMessage).toBe(false);
    });

    it('accepts a new message after a fragmented one ends', () => {
      const e = new Endpoint(role);
      expect(e.receive(e.frame(TEXT, 'a', { fin: false }), e.frame(CONT, 'b'), e.frame(BINARY, 'c'))).toEqual([
        start(TEXT, false), data('a'), end(false), start(CONT, true, { messageOpcode: TEXT }), data('b'), end(true), ...whole(BINARY, 'c'),
      ]);
    });

    it('fails with 1002 on a continuation frame without a message to continue', () => {
      const e = new Endpoint(role);
      const reason = 'Continuation frame without a message to continue';
      expect(e.receive(e.frame(CONT, 'x'))).toEqual([failed(1002, 'UNEXPECTED_CONTINUATION', reason)]);
      expect(e.output()).toBe(e.sentClose(1002, reason));
    });

    it('fails with 1002 on a continuation frame after a message ended', () => {
      const e = new Endpoint(role);
      expect(e.receive(e.frame(TEXT, 'x'), e.frame(CONT, 'y'))).toEqual([...whole(TEXT, 'x'), failed(1002, 'UNEXPECTED_CONTINUATION')]);
    });

    it.each([
      ['text', TEXT],
      ['binary', BINARY],
    ])('fails with 1002 on a new %s frame inside a fragmented message', (_what, opcode) => {
      const e = new Endpoint(role);
      const reason = `Data frame (opcode 0x${opcode}) inside a fragmented message; expected a continuation`;
      expect(e.receive(e.frame(TEXT, 'a', { fin: false }), e.frame(opcode, 'b'))).toEqual([start(TEXT, false), data('a'), end(false), failed(1002, 'EXPECTED_CONTINUATION', reason)]);
      expect(e.output()).toBe(e.sentClose(1002, reason));
      expect(e.p.receivingMessage).toBe(false);
    });
  });

  describe('reserved bits and opcodes (§5.2)', () => {
    it.each([0b100, 0b010, 0b001, 0b111])('fails with 1002 on a data frame with RSV bits %p and no extension owning them', (rsv) => {
      const e = new Endpoint(role);
      const reason = `Reserved bits 0b${rsv.toString(2).padStart(3, '0')} are set and no extension owns them`;
      expect(e.receive(e.frame(TEXT, 'x', { rsv }))).toEqual([failed(1002, 'RESERVED_BITS', reason)]);
      expect(e.output()).toBe(e.sentClose(1002, reason));
    });

    it('fails with 1002 on RSV bits set on a continuation frame', () => {
      const e = new Endpoint(role);
      expect(e.receive(e.frame(TEXT, 'a', { fin: false }), e.frame(CONT, 'b', { rsv: 0b100 }))).toEqual([start(TEXT, false), data('a'), end(false), failed(1002, 'RESERVED_BITS')]);
    });

    it('accepts RSV bits allowed by allowReservedBits, reporting them and not marking the message encoded', () => {
      const e = new Endpoint(role, { allowReservedBits: 0b001 });
      expect(e.receive(e.frame(BINARY, 'x', { rsv: 0b001 }))).toEqual([start(BINARY, true, { rsv: 0b001, messageOpcode: BINARY }), data('x'), end()]);
      expect(e.receive(e.frame(BINARY, 'y', { rsv: 0b010 }))).toEqual([failed(1002, 'RESERVED_BITS')]);
    });

    it('marks a message encoded when a negotiated extension owns an RSV bit it carries, and leaves its text unvalidated', () => {
      const e = new Endpoint(role, { extensions: [extension(0b100)] });
      const notUtf8 = hex('fffe');
      expect(e.receive(e.frame(TEXT, notUtf8, { rsv: 0b100, fin: false }), e.frame(CONT, notUtf8))).toEqual([
        start(TEXT, false, { rsv: 0b100, messageOpcode: TEXT, encoded: true }), data('fffe', true), end(false),
        start(CONT, true, { messageOpcode: TEXT, encoded: true }), data('fffe', true), end(true),
      ]);
    });

    it('runs a negotiated extension\'s per-frame rules before any payload, and fails with its violation', () => {
      const seen: Array<[number, boolean]> = [];
      const ext = extension(0b100, {
        checkIncomingFrame: (header, first) => {
          seen.push([header.opcode, first]);
          return !first && header.rsv !== 0 ? new ProtocolViolation(1002, 'RESERVED_BITS', 'RSV1 is set on a continuation frame (RFC 7692 §6.1)') : undefined;
        },
      });
      const e = new Endpoint(role, { extensions: [ext] });
      expect(e.receive(e.frame(TEXT, 'a', { rsv: 0b100, fin: false }), e.frame(CONT, 'b', { rsv: 0b100 }))).toEqual([
        start(TEXT, false, { rsv: 0b100, encoded: true }), data('a'), end(false), failed(1002, 'RESERVED_BITS', 'RSV1 is set on a continuation frame (RFC 7692 §6.1)'),
      ]);
      expect(seen).toEqual([[TEXT, true], [CONT, false]]);
      expect(e.output()).toBe(e.sentClose(1002, 'RSV1 is set on a continuation frame (RFC 7692 §6.1)'));
    });

    it('refuses two extensions claiming the same RSV bit (RangeError)', () => {
      expect(() => new Protocol({ role, extensions: [extension(0b100), extension(0b110)] })).toThrow(RangeError);
      expect(() => new Protocol({ role, extensions: [extension(0b100), extension(0b010)] })).not.toThrow();
    });

    it.each([3, 4, 5, 6, 7])('fails with 1002 on reserved data opcode 0x%s', (opcode) => {
      const e = new Endpoint(role);
      const reason = `Opcode 0x${opcode} is reserved and no extension defines it`;
      expect(e.receive(e.frame(opcode, 'x'))).toEqual([failed(1002, 'RESERVED_OPCODE', reason)]);
      expect(e.output()).toBe(e.sentClose(1002, reason));
    });

    it('reports a message with a reserved data opcode allowed by allowReservedOpcodes, continuations included', () => {
      const e = new Endpoint(role, { allowReservedOpcodes: [0x3] });
      expect(e.receive(e.frame(0x3, 'a', { fin: false }), e.frame(CONT, 'b'))).toEqual([
        start(0x3, false), data('a'), end(false), start(CONT, true, { messageOpcode: 0x3 }), data('b'), end(true),
      ]);
    });
  });

  describe('UTF-8 of text messages (§5.6, §8.1)', () => {
    it.each([
      ['a lone continuation byte', '80'],
      ['0xFF', 'ff'],
      ['an overlong "/" (C0 AF)', 'c0af'],
      ['an overlong NUL (E0 80 80)', 'e08080'],
      ['a UTF-16 surrogate (ED A0 80)', 'eda080'],
      ['a code point above U+10FFFF (F4 90 80 80)', 'f4908080'],
      ['a lead byte followed by ASCII', 'e241'],
    ])('fails with 1007 on %s', (_what, bad) => {
      const e = new Endpoint(role);
      expect(e.receive(e.frame(TEXT, hex('41' + bad + '41')))).toEqual([start(TEXT), failed(1007, 'INVALID_UTF8', 'Text message is not valid UTF-8')]);
      expect(e.output()).toBe(e.sentClose(1007, 'Text message is not valid UTF-8'));
    });

    it('fails fast, at the bytes that make the text invalid, before the rest of the frame arrives', () => {
      const e = new Endpoint(role);
      const bytes = e.frame(TEXT, hex('414243 c0 ' + '41'.repeat(1000)));
      const headerLength = bytes.length - 1004;
      expect(e.receiveRaw(bytes.subarray(0, headerLength + 2))).toEqual([start(TEXT), data('AB')]);
      expect(e.receiveRaw(bytes.subarray(headerLength + 2, headerLength + 4))).toEqual([failed(1007, 'INVALID_UTF8')]);
      expect(e.output()).toBe(e.sentClose(1007, 'Text message is not valid UTF-8'));
    });

    it('fails fast on invalid bytes in a non-final fragment, before the message ends', () => {
      const e = new Endpoint(role);
      expect(e.receive(e.frame(TEXT, 'ok', { fin: false }), e.frame(CONT, hex('eda080'), { fin: false }))).toEqual([
        start(TEXT, false), data('ok'), end(false), start(CONT, false, { messageOpcode: TEXT }), failed(1007, 'INVALID_UTF8'),
      ]);
    });

    it('fails with 1007 when the text ends inside a UTF-8 sequence', () => {
      const e = new Endpoint(role);
      const reason = 'Text message ends inside a UTF-8 sequence';
      expect(e.receive(e.frame(TEXT, hex('41e282')))).toEqual([start(TEXT), data('41e282', true), failed(1007, 'INVALID_UTF8', reason)]);
      expect(e.output()).toBe(e.sentClose(1007, reason));
    });

    it('fails with 1007 when the final fragment is empty and the text ends inside a sequence', () => {
      const e = new Endpoint(role);
      expect(e.receive(e.frame(TEXT, hex('f09f'), { fin: false }), e.frame(CONT))).toEqual([
        start(TEXT, false), data('f09f', true), end(false), start(CONT, true, { messageOpcode: TEXT }), failed(1007, 'INVALID_UTF8'),
      ]);
    });

    it('accepts a character split across fragments, and across a ping between them', () => {
      const e = new Endpoint(role);
      expect(e.receive(e.frame(TEXT, hex('e2'), { fin: false }), e.frame(0x9, 'p'), e.frame(CONT, hex('82'), { fin: false }), e.frame(CONT, hex('ac')))).toEqual([
        start(TEXT, false), data('e2', true), end(false),
        { type: 'ping', data: h('p') },
        start(CONT, false, { messageOpcode: TEXT }), data('82', true), end(false),
        start(CONT, true, { messageOpcode: TEXT }), data('ac', true), end(true),
      ]);
      expect(e.output()).toBe(e.sent(0xa, 'p'));
    });

    it('accepts text fed one byte at a time', () => {
      const e = new Endpoint(role);
      const text = 'aé€😀z';
      const bytes = e.frame(TEXT, text);
      const chunks = Array.from(bytes, (b) => new Uint8Array([b]));
      expect(e.receive(...chunks)).toEqual(whole(TEXT, text));
    });

    it('never validates binary messages', () => {
      const e = new Endpoint(role);
      expect(e.receive(e.frame(BINARY, hex('c0ff')))).toEqual([start(BINARY), data('c0ff', true), end()]);
    });

    it('validates each text message on its own: an error does not carry over', () => {
      const e = new Endpoint(role);
      expect(e.receive(e.frame(TEXT, '€'), e.frame(TEXT, 'x'))).toEqual([...whole(TEXT, '€'), ...whole(TEXT, 'x')]);
    });
  });

  describe('limits (§10.4), refused from the header before any payload', () => {
    it('fails with 1009 on a frame longer than maxFrameSize, from its 2-byte header alone', () => {
      const e = new Endpoint(role, { maxFrameSize: 10 });
      expect(e.receive(e.frame(BINARY, new Uint8Array(10)))).toEqual([start(BINARY), data('00'.repeat(10), true), end()]);
      const header = e.frame(BINARY, new Uint8Array(11)).subarray(0, 2);
      const reason = 'Frame of 11 bytes exceeds maxFrameSize (10)';
      expect(e.receive(header)).toEqual([failed(1009, 'FRAME_TOO_BIG', reason)]);
      expect(e.output()).toBe(e.sentClose(1009, reason));
    });

    it('fails with 1009 on a 64-bit length over maxFrameSize as soon as the length is read', () => {
      const e = new Endpoint(role, { maxFrameSize: 1 << 20 });
      // 0x82 0x7F and 2^40: no payload follows, none is needed to refuse it.
      expect(e.receive(hex(`82${role === 'server' ? 'ff' : '7f'}0000010000000000`))).toEqual([failed(1009, 'FRAME_TOO_BIG', `Frame of ${2 ** 40} bytes exceeds maxFrameSize (${1 << 20})`)]);
    });

    it('fails with 1002 on a 64-bit length with its most significant bit set (§5.2)', () => {
      const e = new Endpoint(role);
      expect(e.receive(hex(`82${role === 'server' ? 'ff' : '7f'}8000000000000000`))).toEqual([failed(1002, 'LENGTH_MSB_SET', 'Frame length has its most significant bit set')]);
    });

    it('fails with 1009 on a frame announcing more than maxMessageSize, from its header alone', () => {
      const e = new Endpoint(role, { maxMessageSize: 10 });
      const bytes = e.frame(TEXT, 'x'.repeat(11));
      const reason = 'Message of at least 11 bytes exceeds maxMessageSize (10)';
      expect(e.receive(bytes.subarray(0, bytes.length - 11))).toEqual([failed(1009, 'MESSAGE_TOO_BIG', reason)]);
      expect(e.output()).toBe(e.sentClose(1009, reason));
    });

    it('fails with 1009 at the header of the fragment that takes a message past maxMessageSize', () => {
      const e = new Endpoint(role, { maxMessageSize: 10 });
      expect(e.receive(e.frame(BINARY, 'x'.repeat(6), { fin: false }), e.frame(CONT, 'y'.repeat(4), { fin: false }))).toEqual([
        start(BINARY, false), data('xxxxxx'), end(false), start(CONT, false, { messageOpcode: BINARY }), data('yyyy'), end(false),
      ]);
      const next = e.frame(CONT, 'z');
      expect(e.receive(next.subarray(0, next.length - 1))).toEqual([failed(1009, 'MESSAGE_TOO_BIG', 'Message of at least 11 bytes exceeds maxMessageSize (10)')]);
    });

    it('counts maxMessageSize per message, and not control frames', () => {
      const e = new Endpoint(role, { maxMessageSize: 4 });
      expect(e.receive(e.frame(BINARY, 'ab', { fin: false }), e.frame(0x9, 'ping'), e.frame(CONT, 'cd'), e.frame(TEXT, 'efgh')).map((ev) => ev.type)).toEqual([
        'frame-start', 'frame-data', 'frame-end', 'ping', 'frame-start', 'frame-data', 'frame-end', 'frame-start', 'frame-data', 'frame-end',
      ]);
    });

    it('fails with 1009 at the header of the frame past maxFragments', () => {
      const e = new Endpoint(role, { maxFragments: 3 });
      const three = [e.frame(TEXT, 'a', { fin: false }), e.frame(CONT, 'b', { fin: false }), e.frame(CONT, 'c')];
      expect(e.receive(...three).filter((ev) => ev.type === 'frame-end')).toHaveLength(3);
      const events = e.receive(e.frame(TEXT, 'a', { fin: false }), e.frame(CONT, 'b', { fin: false }), e.frame(CONT, 'c', { fin: false }), e.frame(CONT, 'd').subarray(0, -1)); // the 4th frame's header, without its payload
      expect(events.slice(-2)).toEqual([end(false), failed(1009, 'TOO_MANY_FRAGMENTS', 'Message has more than 3 frames (maxFragments)')]);
      expect(e.output()).toBe(e.sentClose(1009, 'Message has more than 3 frames (maxFragments)'));
    });

    it('does not count control frames as fragments', () => {
      const e = new Endpoint(role, { maxFragments: 2 });
      const events = e.receive(e.frame(TEXT, 'a', { fin: false }), e.frame(0x9), e.frame(0xa), e.frame(CONT, 'b'));
      expect(events.filter((ev) => ev.type === 'failed')).toEqual([]);
    });
  });

  describe('after a failure', () => {
    it('parses nothing more: a valid frame and a ping after the bad one give no event and no pong', () => {
      const e = new Endpoint(role);
      expect(e.receive(e.frame(0x4), e.frame(TEXT, 'x'), e.frame(0x9, 'p'))).toEqual([failed(1002, 'RESERVED_OPCODE')]);
      expect(e.receive(e.frame(TEXT, 'later'))).toEqual([]);
      expect(e.p.nextEvent()).toBeUndefined();
      expect(e.output()).toBe(e.sentClose(1002, 'Opcode 0x4 is reserved and no extension defines it'));
    });
  });
});

describe('Protocol: masking (§5.1, §5.3)', () => {
  it('a server fails with 1002 on an unmasked client frame, and answers with an unmasked close', () => {
    const e = new Endpoint('server');
    expect(e.receive(e.frame(TEXT, 'Hello', { masked: false }))).toEqual([failed(1002, 'MASK_REQUIRED', 'Client frame is not masked')]);
    expect(e.output()).toBe(toHex(frame(0x8, hex('03ea' + h('Client frame is not masked')))));
  });

  it('a server fails with 1002 on an unmasked control frame too', () => {
    const e = new Endpoint('server');
    expect(e.receive(e.frame(0x9, 'p', { masked: false }))).toEqual([failed(1002, 'MASK_REQUIRED')]);
    expect(e.output()).toBe(e.sentClose(1002, 'Client frame is not masked'));
  });

  it('a server fails with 1002 on an unmasked continuation in the middle of a masked message', () => {
    const e = new Endpoint('server');
    expect(e.receive(e.frame(TEXT, 'a', { fin: false }), e.frame(CONT, 'b', { masked: false }))).toEqual([start(TEXT, false), data('a'), end(false), failed(1002, 'MASK_REQUIRED')]);
  });

  it('a client fails with 1002 on a masked server frame, and answers with a masked close', () => {
    const e = new Endpoint('client');
    expect(e.receive(e.frame(TEXT, 'Hello', { masked: true }))).toEqual([failed(1002, 'MASK_FORBIDDEN', 'Server frame is masked')]);
    expect(e.output()).toBe(toHex(frame(0x8, hex('03ea' + h('Server frame is masked')), { key: KEY })));
  });

  it('a client fails with 1002 on a masked control frame too', () => {
    const e = new Endpoint('client');
    expect(e.receive(e.frame(0x8, hex('03e8'), { masked: true }))).toEqual([failed(1002, 'MASK_FORBIDDEN')]);
    expect(e.p.closeReceived).toBeUndefined();
  });

  it('a server unmasks with each frame\'s own key, the all-zero key included', () => {
    const e = new Endpoint('server');
    const a = frame(TEXT, utf8('one'), { key: hex('00000000') });
    const b = frame(TEXT, utf8('two'), { key: hex('ffffffff') });
    expect(e.receive(a, b)).toEqual([...whole(TEXT, 'one'), ...whole(TEXT, 'two')]);
  });

  it('a server leaves binary payload masked, with its key and phase, when nextEvent(true) asks', () => {
    const e = new Endpoint('server');
    const bytes = e.frame(BINARY, 'Hello');
    e.p.receive(bytes.slice(0, bytes.length - 2));
    e.p.receive(bytes.slice(bytes.length - 2));
    expect(e.p.nextEvent(true)?.type).toBe('frame-start');
    const first = e.p.nextEvent(true);
    const second = e.p.nextEvent(true);
    expect(first).toMatchObject({ type: 'frame-data', maskPhase: 0 });
    expect(second).toMatchObject({ type: 'frame-data', maskPhase: 3 });
    const f = first as { data: Uint8Array; maskKey: Uint8Array };
    const s = second as { data: Uint8Array; maskKey: Uint8Array };
    expect(toHex(f.maskKey)).toBe(toHex(KEY));
    expect(toHex(new Uint8Array([...f.data, ...s.data]))).toBe(toHex(bytes.subarray(bytes.length - 5)));
  });

  it('a server unmasks text itself even when nextEvent(true) asks: it validates text as it arrives', () => {
    const e = new Endpoint('server');
    e.p.receive(e.frame(TEXT, 'Hello'));
    e.p.nextEvent(true);
    const ev = e.p.nextEvent(true) as { type: string; data: Uint8Array; maskKey?: Uint8Array };
    expect(ev.maskKey).toBeUndefined();
    expect(toHex(ev.data)).toBe(h('Hello'));
  });
});
