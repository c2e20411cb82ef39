// RFC 6455 §5.5.1 and §7: the closing handshake, the close frame's payload rules, and the
// states OPEN → CLOSING → CLOSED.
import { InvalidStateError } from '../../lib/protocol/protocol';
import { ReadyState } from '../../lib/protocol/state';
import { closePayload, concat, Endpoint, failed, h, hex, KEY, ROLES, toHex, utf8, whole } from './helpers';

const CLOSE = 0x8;
const TEXT = 0x1;

describe.each(ROLES)('Protocol (%s role): the peer starts the closing handshake', (role) => {
  it('starts OPEN, with no close frame sent or received', () => {
    const e = new Endpoint(role);
    expect(e.p.state).toBe(ReadyState.Open);
    expect(e.p.closeSent).toBeUndefined();
    expect(e.p.closeReceived).toBeUndefined();
    expect(e.p.failure).toBeUndefined();
  });

  it('reports the peer\'s close, echoes its payload, and goes CLOSING, then CLOSED when the transport ends', () => {
    const e = new Endpoint(role);
    expect(e.receive(e.frame(CLOSE, closePayload(1000, 'bye')))).toEqual([{ type: 'close', code: 1000, reason: 'bye' }]);
    expect(e.p.closeReceived).toEqual({ code: 1000, reason: 'bye' });
    expect(e.p.closeSent).toEqual({ code: 1000, reason: 'bye' });
    expect(e.p.state).toBe(ReadyState.Closing);
    expect(e.output()).toBe(e.sentClose(1000, 'bye'));
    e.p.receiveEnd();
    expect(e.p.state).toBe(ReadyState.Closed);
    expect(e.output()).toBe('');
  });

  it('echoes an empty close as an empty close (never a 1005 on the wire), reporting 1005', () => {
    const e = new Endpoint(role);
    expect(e.receive(e.frame(CLOSE))).toEqual([{ type: 'close', code: 1005, reason: '' }]);
    expect(e.p.closeReceived).toEqual({ code: 1005, reason: '' });
    expect(e.p.closeSent).toEqual({ code: 1005, reason: '' });
    expect(e.output()).toBe(role === 'server' ? '8800' : '8880' + toHex(KEY));
  });

  it('echoes a close whose reason fills the frame (123 bytes)', () => {
    const e = new Endpoint(role);
    const reason = 'é'.repeat(61) + 'x';
    expect(utf8(reason).length).toBe(123);
    expect(e.receive(e.frame(CLOSE, closePayload(4999, reason)))).toEqual([{ type: 'close', code: 4999, reason }]);
    expect(e.output()).toBe(e.sentClose(4999, reason));
  });

  it.each([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999])('accepts and echoes close code %p (§7.4)', (code) => {
    const e = new Endpoint(role);
    expect(e.receive(e.frame(CLOSE, closePayload(code, 'r')))).toEqual([{ type: 'close', code, reason: 'r' }]);
    expect(e.output()).toBe(e.sentClose(code, 'r'));
  });

  it.each([0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535])('fails with 1002 on close code %p, which may not be on the wire (§7.4)', (code) => {
    const e = new Endpoint(role);
    const reason = `Close code ${code} is not valid on the wire`;
    expect(e.receive(e.frame(CLOSE, closePayload(code)))).toEqual([failed(1002, 'INVALID_CLOSE_CODE', reason)]);
    expect(e.p.closeReceived).toBeUndefined();
    expect(e.p.closeSent).toEqual({ code: 1002, reason });
    expect(e.output()).toBe(e.sentClose(1002, reason));
  });

  it('fails with 1002 on a close payload of 1 byte (§5.5.1: a code takes 2)', () => {
    const e = new Endpoint(role);
    const reason = 'Close frame payload of 1 byte: a status code takes 2';
    expect(e.receive(e.frame(CLOSE, hex('03')))).toEqual([failed(1002, 'INVALID_CLOSE_PAYLOAD', reason)]);
    expect(e.output()).toBe(e.sentClose(1002, reason));
  });

  it.each([
    ['an invalid byte', 'ff'],
    ['a truncated sequence', 'c3'],
    ['a surrogate', 'eda080'],
  ])('fails with 1007 on a close reason with %s (§5.5.1, §8.1)', (_what, bad) => {
    const e = new Endpoint(role);
    expect(e.receive(e.frame(CLOSE, hex('03e8' + h('ok') + bad)))).toEqual([failed(1007, 'INVALID_UTF8', 'Close reason is not valid UTF-8')]);
    expect(e.output()).toBe(e.sentClose(1007, 'Close reason is not valid UTF-8'));
  });

  it('ignores everything after the peer\'s close: data, pings, even invalid bytes', () => {
    const e = new Endpoint(role);
    const after = concat([e.frame(TEXT, 'late'), e.frame(0x9, 'p'), hex('ffffffff')]);
    expect(e.receive(concat([e.frame(CLOSE, closePayload(1001)), after]))).toEqual([{ type: 'close', code: 1001, reason: '' }]);
    expect(e.receive(after)).toEqual([]);
    expect(e.p.failure).toBeUndefined();
    expect(e.output()).toBe(e.sentClose(1001));
  });

  it('holds no bytes after the peer\'s close: bufferedAmount is 0 though more followed it in the same read', () => {
    const e = new Endpoint(role);
    e.receive(concat([e.frame(CLOSE), e.frame(TEXT, 'x'.repeat(1000))]));
    expect(e.p.bufferedAmount).toBe(0);
  });

  it('abandons a fragmented message the close arrives in the middle of', () => {
    const e = new Endpoint(role);
    expect(e.receive(e.frame(TEXT, 'a', { fin: false }), e.frame(CLOSE, closePayload(1000)), e.frame(0x0, 'b'))).toEqual([
      expect.objectContaining({ type: 'frame-start' }), expect.objectContaining({ type: 'frame-data' }), expect.objectContaining({ type: 'frame-end', fin: false }),
      { type: 'close', code: 1000, reason: '' },
    ]);
    expect(e.p.receivingMessage).toBe(false);
  });

  it('refuses data and control frames after echoing the close (the echo is our close frame)', () => {
    const e = new Endpoint(role);
    e.receive(e.frame(CLOSE));
    expect(() => e.p.encodeDataFrame(TEXT, utf8('x'), true, 0)).toThrow(InvalidStateError);
    expect(() => e.p.ping()).toThrow(InvalidStateError);
    expect(e.p.close(1000)).toBe(false);
    expect(e.output()).toBe(e.sent(CLOSE));
  });

  it('goes CLOSED when the transport ends without a close frame, and ignores what follows', () => {
    const e = new Endpoint(role);
    e.p.receive(e.frame(TEXT, 'unread'));
    e.p.receiveEnd();
    expect(e.p.state).toBe(ReadyState.Closed);
    expect(e.p.closeReceived).toBeUndefined();
    expect(e.p.nextEvent()).toBeUndefined();
    expect(e.p.bufferedAmount).toBe(0);
    expect(e.receive(e.frame(TEXT, 'x'))).toEqual([]);
  });
});

describe.each(ROLES)('Protocol (%s role): we start the closing handshake', (role) => {
  it('sends the close frame, goes CLOSING, and sends nothing when the peer\'s close answers it', () => {
    const e = new Endpoint(role);
    expect(e.p.close(1000, 'done')).toBe(true);
    expect(e.p.state).toBe(ReadyState.Closing);
    expect(e.p.closeSent).toEqual({ code: 1000, reason: 'done' });
    expect(e.output()).toBe(e.sentClose(1000, 'done'));
    expect(e.receive(e.frame(CLOSE, closePayload(1000, 'ok')))).toEqual([{ type: 'close', code: 1000, reason: 'ok' }]);
    expect(e.p.closeReceived).toEqual({ code: 1000, reason: 'ok' });
    expect(e.p.closeSent).toEqual({ code: 1000, reason: 'done' });
    expect(e.p.state).toBe(ReadyState.Closing);
    expect(e.p.hasOutput).toBe(false);
    e.p.receiveEnd();
    expect(e.p.state).toBe(ReadyState.Closed);
  });

  it('sends an empty close frame without a code, recorded as 1005', () => {
    const e = new Endpoint(role);
    expect(e.p.close()).toBe(true);
    expect(e.p.closeSent).toEqual({ code: 1005, reason: '' });
    expect(e.output()).toBe(role === 'server' ? '8800' : '8880' + toHex(KEY));
  });

  it('sends one close frame only: close() again returns false and queues nothing', () => {
    const e = new Endpoint(role);
    e.p.close(4000, 'first');
    expect(e.p.close(4001, 'second')).toBe(false);
    expect(e.p.closeSent).toEqual({ code: 4000, reason: 'first' });
    expect(e.output()).toBe(e.sentClose(4000, 'first'));
  });

  it.each([0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 1000.5])('refuses close code %p (RangeError), sending nothing and staying OPEN', (code) => {
    const e = new Endpoint(role);
    expect(() => e.p.close(code)).toThrow(RangeError);
    expect(e.p.state).toBe(ReadyState.Open);
    expect(e.p.closeSent).toBeUndefined();
    expect(e.p.hasOutput).toBe(false);
  });

  it('refuses a reason over 123 UTF-8 bytes (RangeError) and a reason without a code (TypeError)', () => {
    const e = new Endpoint(role);
    expect(() => e.p.close(1000, 'é'.repeat(62))).toThrow(RangeError);
    expect(() => e.p.close(undefined, 'why')).toThrow(TypeError);
    expect(e.p.hasOutput).toBe(false);
    expect(e.p.close(1000, 'x'.repeat(123))).toBe(true);
    expect(e.output()).toBe(e.sentClose(1000, 'x'.repeat(123)));
  });

  it('encodes data frames while OPEN and refuses them once the close frame is sent (§5.5.1)', () => {
    const e = new Endpoint(role);
    expect(toHex(concat(e.p.encodeDataFrame(TEXT, utf8('Hello'), true, 0)))).toBe(e.sent(TEXT, 'Hello'));
    const { header, mask } = e.p.beginDataFrame(0x2, 3, true, 0);
    expect(toHex(concat([header, mask(hex('0102')), mask(hex('03'))]))).toBe(e.sent(0x2, hex('010203')));
    e.p.close(1000);
    expect(() => e.p.encodeDataFrame(TEXT, utf8('x'), true, 0)).toThrow(InvalidStateError);
    expect(() => e.p.beginDataFrame(TEXT, 1, true, 0)).toThrow(InvalidStateError);
  });

  it('still delivers data the peer sent before it saw our close, and reports pings without answering them', () => {
    const e = new Endpoint(role);
    e.p.close(1000);
    expect(e.receive(e.frame(TEXT, 'in flight'), e.frame(0x9, 'p'), e.frame(0xa, 'q'))).toEqual([
      ...whole(TEXT, 'in flight'), { type: 'ping', data: h('p') }, { type: 'pong', data: h('q') },
    ]);
    expect(e.output()).toBe(e.sentClose(1000));
  });

  it('still validates what the peer sends after our close: a violation fails without a second close frame', () => {
    const e = new Endpoint(role);
    e.p.close(1000);
    expect(e.output()).toBe(e.sentClose(1000));
    expect(e.receive(e.frame(0x3))).toEqual([failed(1002, 'RESERVED_OPCODE')]);
    expect(e.p.failure?.kind).toBe('RESERVED_OPCODE');
    expect(e.p.closeSent).toEqual({ code: 1000, reason: '' });
    expect(e.p.hasOutput).toBe(false);
  });

  it('accepts the peer\'s close with another code than ours, and an empty one', () => {
    const a = new Endpoint(role);
    a.p.close(1000);
    expect(a.receive(a.frame(CLOSE, closePayload(1001)))).toEqual([{ type: 'close', code: 1001, reason: '' }]);
    const b = new Endpoint(role);
    b.p.close(1000);
    expect(b.receive(b.frame(CLOSE))).toEqual([{ type: 'close', code: 1005, reason: '' }]);
    expect(b.p.closeReceived).toEqual({ code: 1005, reason: '' });
  });
});
