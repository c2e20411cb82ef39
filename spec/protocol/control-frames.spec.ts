// RFC 6455 §5.5: control frames (ping, pong, reserved control opcodes), received and sent,
// and the bound on automatic pongs (§5.5.3: answer only the most recent ping).
import { InvalidStateError } from '../../lib/protocol/protocol';
import { concat, data, end, Endpoint, failed, frame, h, hex, KEY, ROLES, start, toHex, utf8 } from './helpers';

const PING = 0x9;
const PONG = 0xa;

describe.each(ROLES)('Protocol (%s role): receiving control frames', (role) => {
  it('answers a ping with a pong carrying the same payload (§5.5.2, §5.5.3)', () => {
    const e = new Endpoint(role);
    expect(e.receive(e.frame(PING, 'Hello'))).toEqual([{ type: 'ping', data: h('Hello') }]);
    expect(e.output()).toBe(e.sent(PONG, 'Hello'));
    expect(e.output()).toBe('');
  });

  it('answers an empty ping with an empty pong', () => {
    const e = new Endpoint(role);
    expect(e.receive(e.frame(PING))).toEqual([{ type: 'ping', data: '' }]);
    expect(e.output()).toBe(role === 'server' ? '8a00' : '8a80' + toHex(KEY));
  });

  it('answers a ping of 125 bytes, the largest a control frame may carry (§5.5)', () => {
    const e = new Endpoint(role);
    const payload = new Uint8Array(125).map((_, i) => i);
    expect(e.receive(e.frame(PING, payload))).toEqual([{ type: 'ping', data: toHex(payload) }]);
    expect(e.output()).toBe(e.sent(PONG, payload));
  });

  it('reports a pong and owes nothing for it', () => {
    const e = new Endpoint(role);
    expect(e.receive(e.frame(PONG, 'beat'))).toEqual([{ type: 'pong', data: h('beat') }]);
    expect(e.p.hasOutput).toBe(false);
    expect(e.output()).toBe('');
  });

  it('reports a ping but sends no pong when autoPong is false', () => {
    const e = new Endpoint(role, { autoPong: false });
    expect(e.receive(e.frame(PING, 'x'))).toEqual([{ type: 'ping', data: h('x') }]);
    expect(e.p.hasOutput).toBe(false);
  });

  it('delivers control frames interleaved with the fragments of a message, in wire order (§5.4)', () => {
    const e = new Endpoint(role);
    const events = e.receive(
      e.frame(0x1, 'Hel', { fin: false }),
      e.frame(PING, 'p1'),
      e.frame(0x0, 'l', { fin: false }),
      e.frame(PONG, 'p2'),
      e.frame(0x0, 'o'),
    );
    expect(events).toEqual([
      start(1, false), data('Hel'), end(false),
      { type: 'ping', data: h('p1') },
      start(0, false, { messageOpcode: 1 }), data('l'), end(false),
      { type: 'pong', data: h('p2') },
      start(0, true, { messageOpcode: 1 }), data('o'), end(true),
    ]);
    expect(e.output()).toBe(e.sent(PONG, 'p1'));
  });

  it('delivers a ping that arrives in the same read as the middle of a fragmented message', () => {
    const e = new Endpoint(role);
    const bytes = concat([e.frame(0x2, new Uint8Array([1]), { fin: false }), e.frame(PING, 'mid'), e.frame(0x0, new Uint8Array([2]))]);
    expect(e.receive(bytes).map((ev) => ev.type)).toEqual(['frame-start', 'frame-data', 'frame-end', 'ping', 'frame-start', 'frame-data', 'frame-end']);
    expect(e.p.receivingMessage).toBe(false);
  });

  it.each([
    ['ping', PING],
    ['pong', PONG],
    ['close', 0x8],
  ])('fails with 1002 on a %s of 126 bytes (§5.5: at most 125)', (_what, opcode) => {
    const e = new Endpoint(role);
    expect(e.receive(e.frame(opcode, new Uint8Array(126)))).toEqual([failed(1002, 'CONTROL_FRAME_TOO_LONG', 'Control frame payload is longer than 125 bytes')]);
    expect(e.output()).toBe(e.sentClose(1002, 'Control frame payload is longer than 125 bytes'));
  });

  it('fails with 1002 on a control frame whose length uses the 16-bit form, from the header alone', () => {
    const e = new Endpoint(role);
    // 126 in the 7-bit field is refused before the extended length is even read.
    const header = e.frame(PING, new Uint8Array(126)).subarray(0, 2);
    expect(e.receive(header)).toEqual([failed(1002, 'CONTROL_FRAME_TOO_LONG')]);
  });

  it.each([
    ['ping', PING],
    ['pong', PONG],
    ['close', 0x8],
  ])('fails with 1002 on a fragmented %s (FIN clear, §5.5)', (_what, opcode) => {
    const e = new Endpoint(role);
    expect(e.receive(e.frame(opcode, '', { fin: false }))).toEqual([failed(1002, 'CONTROL_FRAME_FRAGMENTED', 'Control frame is fragmented (FIN is 0)')]);
    expect(e.output()).toBe(e.sentClose(1002, 'Control frame is fragmented (FIN is 0)'));
  });

  it.each([0b100, 0b010, 0b001])('fails with 1002 on a ping with RSV bits %p set (§5.2)', (rsv) => {
    const e = new Endpoint(role);
    expect(e.receive(e.frame(PING, 'x', { rsv }))).toEqual([failed(1002, 'RESERVED_BITS')]);
    expect(e.output()).toBe(e.sentClose(1002, `Reserved bits 0b${rsv.toString(2).padStart(3, '0')} are set and no extension owns them`));
  });

  it('fails with 1002 on RSV bits on a control frame even when allowReservedBits allows them on data', () => {
    const e = new Endpoint(role, { allowReservedBits: 0b111 });
    expect(e.receive(e.frame(PING, 'x', { rsv: 0b100 }))).toEqual([failed(1002, 'RESERVED_BITS')]);
  });

  it.each([0xb, 0xc, 0xd, 0xe, 0xf].map((op) => [op.toString(16), op] as const))('fails with 1002 on reserved control opcode 0x%s (§5.2)', (_hex, opcode) => {
    const e = new Endpoint(role);
    const reason = `Opcode 0x${opcode.toString(16)} is reserved and no extension defines it`;
    expect(e.receive(e.frame(opcode, 'x'))).toEqual([failed(1002, 'RESERVED_OPCODE', reason)]);
    expect(e.output()).toBe(e.sentClose(1002, reason));
  });

  it('reports a reserved control opcode allowed by allowReservedOpcodes, and owes nothing for it', () => {
    const e = new Endpoint(role, { allowReservedOpcodes: [0xb] });
    expect(e.receive(e.frame(0xb, 'ctl'))).toEqual([{ type: 'control', opcode: 0xb, rsv: 0, data: h('ctl') }]);
    expect(e.p.hasOutput).toBe(false);
  });

  it('reports a reserved control opcode an extension defines', () => {
    const ext = { name: 'x', rsvBits: 0, opcodes: [0xc], checkIncomingFrame: () => undefined, createDecoder: () => undefined, createEncoder: () => undefined, close: () => undefined };
    const e = new Endpoint(role, { extensions: [ext] });
    expect(e.receive(e.frame(0xc))).toEqual([{ type: 'control', opcode: 0xc, rsv: 0, data: '' }]);
  });

  it('gives the ping payload to the event and keeps its own copy for the pong', () => {
    const e = new Endpoint(role);
    e.p.receive(e.frame(PING, 'abc'));
    const ev = e.p.nextEvent();
    expect(ev?.type).toBe('ping');
    (ev as { data: Uint8Array }).data.fill(0x21); // a user's onPing scribbling on what it was given
    expect(e.output()).toBe(e.sent(PONG, 'abc'));
  });
});

describe.each(ROLES)('Protocol (%s role): sending control frames', (role) => {
  it('queues a ping and an unsolicited pong (§5.5.3) in order, byte for byte', () => {
    const e = new Endpoint(role);
    e.p.ping(utf8('are you there'));
    e.p.pong(utf8('heartbeat'));
    e.p.ping();
    expect(e.p.hasOutput).toBe(true);
    expect(e.output()).toBe(e.sent(PING, 'are you there') + e.sent(PONG, 'heartbeat') + e.sent(PING));
    expect(e.p.hasOutput).toBe(false);
  });

  it('encodes the RFC 6455 §5.7 ping example', () => {
    const e = new Endpoint(role);
    e.p.ping(utf8('Hello'));
    expect(e.output()).toBe(role === 'server' ? '890548656c6c6f' : '898537fa213d7f9f4d5158');
  });

  it('copies the caller\'s payload: changing it after ping()/pong() changes nothing sent', () => {
    const e = new Endpoint(role);
    const a = utf8('aaaa');
    const b = Buffer.from('bbbb'); // a Node Buffer, whose slice() is a view
    e.p.ping(a);
    e.p.pong(b);
    a.fill(0x7a);
    b.fill(0x7a);
    expect(e.output()).toBe(e.sent(PING, 'aaaa') + e.sent(PONG, 'bbbb'));
  });

  it('refuses a ping or pong payload over 125 bytes (RangeError) and queues nothing', () => {
    const e = new Endpoint(role);
    expect(() => e.p.ping(new Uint8Array(126))).toThrow(RangeError);
    expect(() => e.p.pong(new Uint8Array(126))).toThrow(RangeError);
    expect(e.p.hasOutput).toBe(false);
    e.p.ping(new Uint8Array(125));
    expect(e.output()).toBe(e.sent(PING, new Uint8Array(125)));
  });

  it('refuses ping() and pong() after the close frame was sent (InvalidStateError)', () => {
    const e = new Endpoint(role);
    e.p.close(1000);
    expect(() => e.p.ping()).toThrow(InvalidStateError);
    expect(() => e.p.pong()).toThrow(InvalidStateError);
    expect(() => e.p.sendReservedControl(0xb)).toThrow(InvalidStateError);
    expect(e.output()).toBe(e.sentClose(1000));
  });

  it('sends a reserved control opcode with sendReservedControl(), and refuses opcodes outside 0xB–0xF', () => {
    const e = new Endpoint(role);
    e.p.sendReservedControl(0xb, utf8('x'));
    expect(e.output()).toBe(toHex(frame(0xb, utf8('x'), { key: role === 'client' ? KEY : undefined })));
    for (const op of [0x0, 0x3, 0x8, 0x9, 0xa, 0x10, 1.5]) expect(() => e.p.sendReservedControl(op)).toThrow(RangeError);
  });

  it('hasOutput is false and takeOutput() gives nothing on a fresh protocol', () => {
    const e = new Endpoint(role);
    expect(e.p.hasOutput).toBe(false);
    expect(e.p.takeOutput()).toEqual([]);
    expect(e.p.takeOutput()).toEqual([]);
  });
});

describe.each(ROLES)('Protocol (%s role): one automatic pong owed at a time (§5.5.3)', (role) => {
  const be32 = (n: number): Uint8Array => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);

  it('answers two pings received before takeOutput() with one pong carrying the second payload', () => {
    const e = new Endpoint(role);
    expect(e.receive(e.frame(PING, 'first'), e.frame(PING, 'second'))).toEqual([
      { type: 'ping', data: h('first') },
      { type: 'ping', data: h('second') },
    ]);
    expect(e.p.hasOutput).toBe(true);
    expect(e.p.coalescedPings).toBe(1);
    expect(e.output()).toBe(e.sent(PONG, 'second'));
    expect(e.p.coalescedPings).toBe(0);
    expect(e.p.hasOutput).toBe(false);
  });

  it('owes a new pong for a ping received after the owed one was taken', () => {
    const e = new Endpoint(role);
    e.receive(e.frame(PING, 'a'));
    expect(e.output()).toBe(e.sent(PONG, 'a'));
    e.receive(e.frame(PING, 'b'));
    expect(e.p.coalescedPings).toBe(0);
    expect(e.output()).toBe(e.sent(PONG, 'b'));
  });

  it('answers 1 000 000 pings received without takeOutput() with exactly one pong, carrying the last payload', () => {
    const e = new Endpoint(role);
    const N = 1_000_000;
    const one = e.frame(PING, be32(0)).length;
    const BATCH = 65_536;
    let seen = 0;
    let last: Uint8Array | undefined;
    for (let from = 0; from < N; from += BATCH) {
      const count = Math.min(BATCH, N - from);
      const bytes = new Uint8Array(count * one);
      for (let i = 0; i < count; i++) bytes.set(e.frame(PING, be32(from + i)), i * one);
      e.p.receive(bytes);
      for (let ev = e.p.nextEvent(); ev; ev = e.p.nextEvent()) {
        if (ev.type !== 'ping') throw new Error(`unexpected ${ev.type}`);
        seen++;
        last = ev.data;
      }
    }
    expect(seen).toBe(N);
    expect(toHex(last!)).toBe(toHex(be32(N - 1)));
    expect(e.p.coalescedPings).toBe(N - 1);
    const out = e.p.takeOutput();
    expect(toHex(concat(out))).toBe(e.sent(PONG, be32(N - 1)));
    // A client masks the one pong it sends, with one key: none was spent on the replaced ones.
    expect(e.keysUsed).toBe(role === 'client' ? 1 : 0);
  }, 60_000);

  it('keeps the owed pong in its place: before a ping we queue after it, with the newest payload', () => {
    const e = new Endpoint(role);
    e.receive(e.frame(PING, 'old'));
    e.p.ping(utf8('ours'));
    e.receive(e.frame(PING, 'new'));
    expect(e.output()).toBe(e.sent(PONG, 'new') + e.sent(PING, 'ours'));
  });

  it('never coalesces unsolicited pongs: each pong() is sent, beside the one automatic pong', () => {
    const e = new Endpoint(role);
    e.p.pong(utf8('u1'));
    e.receive(e.frame(PING, 'a1'));
    e.p.pong(utf8('u2'));
    e.receive(e.frame(PING, 'a2'));
    e.p.pong(utf8('u2'));
    expect(e.p.coalescedPings).toBe(1);
    expect(e.output()).toBe(e.sent(PONG, 'u1') + e.sent(PONG, 'a2') + e.sent(PONG, 'u2') + e.sent(PONG, 'u2'));
  });

  it('never coalesces our own pings', () => {
    const e = new Endpoint(role);
    e.p.ping(utf8('1'));
    e.p.ping(utf8('1'));
    expect(e.output()).toBe(e.sent(PING, '1') + e.sent(PING, '1'));
  });

  it('sends the owed pong before the echo of a close received after it', () => {
    const e = new Endpoint(role);
    e.receive(e.frame(PING, 'p1'), e.frame(PING, 'p2'));
    expect(e.receive(e.frame(0x8, hex('03e8') /* 1000 */))).toEqual([{ type: 'close', code: 1000, reason: '' }]);
    expect(e.output()).toBe(e.sent(PONG, 'p2') + e.sentClose(1000));
  });

  it('sends the owed pong before the close frame of a failure after it', () => {
    const e = new Endpoint(role);
    e.receive(e.frame(PING, 'p'));
    e.receive(e.frame(0x3)); // reserved data opcode
    expect(e.output()).toBe(e.sent(PONG, 'p') + e.sentClose(1002, 'Opcode 0x3 is reserved and no extension defines it'));
  });

  it('sends nothing after our close frame: a ping after it neither owes a pong nor changes the owed one', () => {
    const e = new Endpoint(role);
    e.receive(e.frame(PING, 'before'));
    e.p.close(1000, 'bye');
    expect(e.receive(e.frame(PING, 'after'))).toEqual([{ type: 'ping', data: h('after') }]);
    expect(e.p.coalescedPings).toBe(0);
    expect(e.output()).toBe(e.sent(PONG, 'before') + e.sentClose(1000, 'bye'));
  });

  it('encodes owed frames when they are taken, spending one masking key per frame sent', () => {
    const keys = [hex('01020304'), hex('0a0b0c0d'), hex('10203040')];
    let next = 0;
    const e = new Endpoint(role, { maskKeySource: () => keys[next++]! });
    e.receive(e.frame(PING, 'a'), e.frame(PING, 'b'), e.frame(PING, 'c'));
    e.p.pong(utf8('u'));
    expect(next).toBe(0);
    const out = toHex(concat(e.p.takeOutput()));
    if (role === 'server') {
      expect(out).toBe(toHex(frame(PONG, utf8('c'))) + toHex(frame(PONG, utf8('u'))));
      expect(next).toBe(0);
    } else {
      expect(out).toBe(toHex(frame(PONG, utf8('c'), { key: keys[0] })) + toHex(frame(PONG, utf8('u'), { key: keys[1] })));
      expect(next).toBe(2);
    }
  });
});
