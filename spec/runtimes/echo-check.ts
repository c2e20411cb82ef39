// What both TCP echo specs check once a client is connected to an echo server through a
// WireTap: the echo byte for byte, and what crossed the wire, compressed or not.
import type { Connection } from '../../lib/streams/connection';
import type { WireTap } from './wire-tap';

/** Text with 1-, 2-, 3- and 4-byte UTF-8 sequences. */
const TEXT = 'echo ü € 𝄞 '.repeat(1000);
/** 1 MiB that deflate shrinks to a few KiB: a repeating pattern of 251 bytes. */
const compressible = (): Uint8Array => new Uint8Array(1 << 20).map((_, i) => (i % 251) * 7);

async function nextBytes(conn: Connection): Promise<{ type: string; data: Uint8Array }> {
  const msg = await conn.nextMessage();
  if (msg === undefined) throw new Error('The connection ended before the echo');
  return { type: msg.type, data: await msg.bytes() };
}

/**
 * Sends a text and a 1 MiB binary message, expects both back unchanged, then checks the
 * client's data frames on the wire: with permessage-deflate RSV1 is set (RFC 7692 §6) and the
 * payload is far smaller than the messages; without it, no RSV bit and every byte as sent.
 */
export async function expectEchoAndWire(client: Connection, tap: WireTap, deflate: boolean): Promise<void> {
  const binary = compressible();
  await client.send(TEXT);
  await client.send(binary);
  const text = await nextBytes(client);
  expect(text.type).toBe('text');
  expect(new TextDecoder().decode(text.data)).toBe(TEXT);
  const bytes = await nextBytes(client);
  expect(bytes.type).toBe('binary');
  expect(bytes.data.length).toBe(binary.length);
  expect(Buffer.compare(bytes.data, binary)).toBe(0);

  const frames = tap.clientDataFrames;
  const wirePayload = frames.reduce((n, f) => n + Number(f.length), 0);
  const original = new TextEncoder().encode(TEXT).length + binary.length;
  if (deflate) {
    expect(frames[0]!.rsv & 4).toBe(4);
    expect(wirePayload).toBeLessThan(original / 20);
  } else {
    expect(frames.every((f) => f.rsv === 0)).toBe(true);
    expect(wirePayload).toBe(original);
  }
}
