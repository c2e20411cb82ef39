// The bytes of a pubsub message on Redis, both ways, and the sequence numbers that reveal
// lost messages: what a publisher numbers and what a receiver counts as missed.
import { PublishedSequences, ReceivedSequences } from '../../lib/pubsub/sequences';
import { decodeWireMessage, encodeWireMessage, HEADER_SIZE, newPublisherId } from '../../lib/pubsub/wire-format';

const publisher = Buffer.from('0123456789abcdef', 'hex');

describe('pubsub wire format', () => {
  it('encodes a text message as version, text flag, publisher id, 64-bit sequence number, UTF-8 payload', () => {
    expect(encodeWireMessage(publisher, 0x1_0000_0002, 'é').toString('hex'))
      .toBe('01' + '01' + '0123456789abcdef' + '0000000100000002' + 'c3a9');
  });

  it('encodes a binary message with the flag clear and the bytes as they are', () => {
    expect(encodeWireMessage(publisher, 7, new Uint8Array([0, 255])).toString('hex'))
      .toBe('01' + '00' + '0123456789abcdef' + '0000000000000007' + '00ff');
  });

  it('decodes what it encodes: every byte value, empty payloads, text and binary', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    for (const data of [all, new Uint8Array(0), '', 'héllo ✓ 😀']) {
      const seq = 2 ** 53 - 1;
      const wire = decodeWireMessage(encodeWireMessage(publisher, seq, data));
      expect(wire).toEqual({
        publisher: '0123456789abcdef', seq, text: typeof data === 'string',
        payload: Buffer.from(typeof data === 'string' ? Buffer.from(data, 'utf8') : data),
      });
    }
  });

  it('refuses what is not one of its messages, saying why', () => {
    const good = encodeWireMessage(publisher, 1, 'x');
    expect(decodeWireMessage(good.subarray(0, HEADER_SIZE - 1))).toBe('17 bytes is shorter than the 18-byte header');
    expect(decodeWireMessage(Buffer.concat([Buffer.from([2]), good.subarray(1)]))).toBe('Unknown format version 2');
    expect(decodeWireMessage(Buffer.concat([Buffer.from([1, 0x82]), good.subarray(2)]))).toBe('Unknown flags 0x82');
    const zero = Buffer.from(good);
    zero.fill(0, 10, 18);
    expect(decodeWireMessage(zero)).toBe('Sequence number 0 is out of range');
    const huge = Buffer.from(good);
    huge.fill(0xff, 10, 18);
    expect(decodeWireMessage(huge)).toBe(`Sequence number ${0xffffffff * 0x1_0000_0000 + 0xffffffff} is out of range`);
  });

  it('gives each publisher a different random id', () => {
    const ids = new Set(Array.from({ length: 100 }, () => newPublisherId().hex));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('pubsub sequence numbers', () => {
  it('numbers each topic from 1, and starts a forgotten topic again from 1 beyond maxTrackedTopics', () => {
    const published = new PublishedSequences(2);
    expect([published.next('a'), published.next('a'), published.next('b'), published.next('a')]).toEqual([1, 2, 1, 3]);
    // 'c' makes three topics: 'b', used least recently, is forgotten.
    expect(published.next('c')).toBe(1);
    expect(published.next('a')).toBe(4);
    expect(published.next('b')).toBe(1);
  });

  it('counts the numbers skipped per topic and publisher; the first one seen is the baseline', () => {
    const received = new ReceivedSequences();
    expect(received.receive('t', 'p', 5)).toBe(0);
    expect(received.receive('t', 'p', 6)).toBe(0);
    expect(received.receive('t', 'p', 10)).toBe(3);
    expect(received.receive('t', 'q', 1)).toBe(0);
    expect(received.receive('u', 'p', 4)).toBe(0);
    expect(received.receive('t', 'q', 2)).toBe(0);
  });

  it('takes a number that goes back as a publisher that started the topic again, and counts what came before it since', () => {
    const received = new ReceivedSequences();
    received.receive('t', 'p', 9);
    expect(received.receive('t', 'p', 1)).toBe(0);
    received.receive('t', 'p', 9);
    expect(received.receive('t', 'p', 3)).toBe(2);
  });

  it('forgets a topic: the next message on it is a baseline again', () => {
    const received = new ReceivedSequences();
    received.receive('t', 'p', 1);
    received.forget('t');
    expect(received.receive('t', 'p', 50)).toBe(0);
  });
});
