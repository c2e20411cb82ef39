// RFC 6455 §7.1.7 _Fail the WebSocket Connection_: one close frame with the violation's code,
// then nothing more from the peer is processed.
import { ProtocolViolation } from '../../lib/codec/violation';
import { InvalidStateError, truncateUtf8 } from '../../lib/protocol/protocol';
import { ReadyState } from '../../lib/protocol/state';
import { concat, Endpoint, failed, hex, ROLES, utf8 } from './helpers';

const violation = (code: 1002 | 1007 | 1009 | 1011, message = 'broken'): ProtocolViolation => new ProtocolViolation(code, 'EXTENSION_ERROR', message);

describe.each(ROLES)('Protocol (%s role): failing the connection', (role) => {
  it('fail() returns a failed event, owes a close frame with the violation\'s code and message, and goes CLOSING', () => {
    const e = new Endpoint(role);
    const v = violation(1011, 'decoder broke');
    expect(e.p.fail(v)).toEqual({ type: 'failed', violation: v });
    expect(e.p.failure).toBe(v);
    expect(e.p.state).toBe(ReadyState.Closing);
    expect(e.p.closeSent).toEqual({ code: 1011, reason: 'decoder broke' });
    expect(e.output()).toBe(e.sentClose(1011, 'decoder broke'));
  });

  it('sends one close frame only: a second failure is reported but the first is kept', () => {
    const e = new Endpoint(role);
    const first = violation(1007, 'first');
    const second = violation(1009, 'second');
    e.p.fail(first);
    expect(e.p.fail(second)).toEqual({ type: 'failed', violation: second });
    expect(e.p.failure).toBe(first);
    expect(e.output()).toBe(e.sentClose(1007, 'first'));
  });

  it('sends no second close frame when ours was sent already', () => {
    const e = new Endpoint(role);
    e.p.close(1000);
    e.p.fail(violation(1002));
    expect(e.p.closeSent).toEqual({ code: 1000, reason: '' });
    expect(e.output()).toBe(e.sentClose(1000));
  });

  it('sends no close frame after the peer\'s close was echoed', () => {
    const e = new Endpoint(role);
    e.receive(e.frame(0x8));
    expect(e.output()).toBe(e.sent(0x8));
    e.p.fail(violation(1011));
    expect(e.p.hasOutput).toBe(false);
  });

  it('cuts a long message to the 123 bytes a close reason may take, never inside a character', () => {
    const e = new Endpoint(role);
    const long = 'é'.repeat(100); // 200 bytes of UTF-8
    e.p.fail(violation(1002, long));
    expect(e.p.closeSent).toEqual({ code: 1002, reason: 'é'.repeat(61) });
    expect(e.output()).toBe(e.sentClose(1002, 'é'.repeat(61)));
  });

  it('processes nothing more: no event, no pong, receive() ignored, no bytes held', () => {
    const e = new Endpoint(role);
    e.p.receive(concat([e.frame(0x1, 'pending'), e.frame(0x9, 'ping')]));
    e.p.fail(violation(1011));
    expect(e.p.nextEvent()).toBeUndefined();
    expect(e.p.bufferedAmount).toBe(0);
    expect(e.receive(e.frame(0x9, 'ping'))).toEqual([]);
    expect(e.p.bufferedAmount).toBe(0);
    expect(e.output()).toBe(e.sentClose(1011, 'broken'));
  });

  it('holds no bytes after a violation found above the frame parser (UTF-8, limits, close payload)', () => {
    const cases: Array<[Endpoint, Uint8Array]> = [];
    const utf = new Endpoint(role);
    cases.push([utf, utf.frame(0x1, hex('ff'))]);
    const big = new Endpoint(role, { maxMessageSize: 1 });
    cases.push([big, big.frame(0x2, 'xy')]);
    const close = new Endpoint(role);
    cases.push([close, close.frame(0x8, hex('03'))]);
    for (const [e, bad] of cases) {
      const events = e.receive(concat([bad, e.frame(0x1, 'x'.repeat(1000))]));
      expect(events[events.length - 1]).toEqual(failed(expect.any(Number), expect.any(String)));
      expect(e.p.bufferedAmount).toBe(0);
    }
  });

  it('refuses to send data once the failure\'s close frame was taken out to be sent', () => {
    const e = new Endpoint(role);
    e.p.fail(violation(1002));
    // While the failure's close frame waits in the output, data may still go before it (a
    // connection answers the messages received before the violation first).
    expect(e.p.encodeDataFrame(0x2, utf8('x'), true, 0).length).toBeGreaterThan(0);
    e.p.takeOutput();
    expect(() => e.p.encodeDataFrame(0x2, utf8('x'), true, 0)).toThrow(InvalidStateError);
    expect(() => e.p.pong()).toThrow(InvalidStateError);
  });

  it('goes CLOSED when the transport ends after a failure', () => {
    const e = new Endpoint(role);
    e.receive(e.frame(0x5));
    e.p.receiveEnd();
    expect(e.p.state).toBe(ReadyState.Closed);
    expect(e.p.failure?.closeCode).toBe(1002);
  });
});

describe('truncateUtf8', () => {
  it.each([
    ['short text as it is', 'abc', 5, 'abc'],
    ['at the limit as it is', 'abcde', 5, 'abcde'],
    ['ASCII cut at the limit', 'abcdef', 5, 'abcde'],
    ['a 2-byte character not split', 'aéé', 4, 'aé'],
    ['a 4-byte character not split', 'a😀', 4, 'a'],
    ['nothing left when the first character does not fit', '😀', 3, ''],
  ])('keeps %s', (_what, text, max, expected) => {
    expect(truncateUtf8(text, max)).toBe(expected);
  });
});
