// The bytes of one message on a Redis channel: a fixed 18-byte header, then the payload as
// it is. Redis strings are binary-safe, so binary payloads cross unchanged; a flag says
// whether the payload is UTF-8 text (to be delivered as a text message) or binary.
//
//   offset 0   version (1)
//   offset 1   flags: bit 0 set = text
//   offset 2   publisher id, 8 random bytes: one per RedisTopics, so a process knows its own
//              messages and tells publishers apart
//   offset 10  sequence number, unsigned 64-bit big-endian, counted per publisher and topic
//              from 1: a receiver that sees a number skipped knows messages were lost
//   offset 18  payload

/** Bytes before the payload. */
export const HEADER_SIZE = 18;
/** The publisher id's size in bytes. */
export const PUBLISHER_ID_SIZE = 8;
const VERSION = 1;
const FLAG_TEXT = 1;

/** One message as read from Redis. */
export interface WireMessage {
  /** The publisher id as 16 lowercase hex digits. */
  readonly publisher: string;
  readonly seq: number;
  readonly text: boolean;
  /** A view into the message read (not a copy). */
  readonly payload: Buffer;
}

/** A fresh random publisher id: its bytes for the header, its hex form for reports. */
export function newPublisherId(): { bytes: Buffer; hex: string } {
  const bytes = Buffer.from(crypto.getRandomValues(new Uint8Array(PUBLISHER_ID_SIZE)));
  return { bytes, hex: bytes.toString('hex') };
}

/** The message for Redis: header and payload in one buffer (a string is encoded as UTF-8 once, straight into it). */
export function encodeWireMessage(publisher: Buffer, seq: number, data: string | Uint8Array): Buffer {
  const text = typeof data === 'string';
  const size = text ? Buffer.byteLength(data) : data.length;
  const out = Buffer.allocUnsafe(HEADER_SIZE + size);
  out[0] = VERSION;
  out[1] = text ? FLAG_TEXT : 0;
  publisher.copy(out, 2, 0, PUBLISHER_ID_SIZE);
  // Sequence numbers stay below 2^53 (a process would need centuries to get there).
  out.writeUInt32BE(Math.floor(seq / 0x1_0000_0000), 10);
  out.writeUInt32BE(seq >>> 0, 14);
  if (text) out.write(data, HEADER_SIZE, 'utf8');
  else out.set(data, HEADER_SIZE);
  return out;
}

/** Reads a message from Redis; a string says why it is not one of ours. */
export function decodeWireMessage(message: Buffer): WireMessage | string {
  if (message.length < HEADER_SIZE) return `${message.length} bytes is shorter than the ${HEADER_SIZE}-byte header`;
  if (message[0] !== VERSION) return `Unknown format version ${message[0]}`;
  const flags = message[1]!;
  if ((flags & ~FLAG_TEXT) !== 0) return `Unknown flags 0x${flags.toString(16)}`;
  const seq = message.readUInt32BE(10) * 0x1_0000_0000 + message.readUInt32BE(14);
  if (seq === 0 || !Number.isSafeInteger(seq)) return `Sequence number ${seq} is out of range`;
  return {
    publisher: message.toString('hex', 2, 2 + PUBLISHER_ID_SIZE),
    seq,
    text: (flags & FLAG_TEXT) !== 0,
    payload: message.subarray(HEADER_SIZE),
  };
}
