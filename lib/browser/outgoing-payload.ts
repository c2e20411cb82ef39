import { isBlob, isReadableStream, toBytes, type BinaryData } from '../streams/outgoing';
import type { StreamMessage, StreamOutgoing } from '../streams/stream-surface';
import { exceedsSize, type WireMessage } from './message-socket';
import { whenAborted } from '../streams/abort';

/** What a `BrowserConnection` sends: what every connection sends, or a received message (forwarded whole). */
export type BrowserOutgoing = StreamOutgoing | StreamMessage;

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

const tooBig = (limit: number, what: string): RangeError =>
  new RangeError(`${what} exceeds maxMessageSize (${limit} bytes): a browser sends whole messages, so it would have to be held whole`);

/** Bytes the browser accepts: an ArrayBuffer-backed Uint8Array (a SharedArrayBuffer's view is copied: send() refuses shared memory). */
function plainBytes(data: BinaryData): Uint8Array<ArrayBuffer> {
  const v = toBytes(data);
  return v.buffer instanceof ArrayBuffer ? (v as Uint8Array<ArrayBuffer>) : new Uint8Array(v);
}

function asType(bytes: Uint8Array<ArrayBuffer>, text: boolean): WireMessage {
  if (!text) return bytes;
  try {
    return strictDecoder.decode(bytes);
  } catch {
    throw new TypeError('Cannot send as text: the data is not valid UTF-8');
  }
}

const isMessage = (m: object): m is StreamMessage =>
  typeof (m as StreamMessage).bytes === 'function' && typeof (m as StreamMessage).stream === 'function';

/**
 * One outgoing message as the whole message the browser sends: a string for text, bytes for
 * binary. A Blob or a stream is read here, at most `limit` bytes of it (more rejects with a
 * RangeError and cancels the stream): neither browser API can send a message in pieces.
 * `signal` cancels a stream being read (with its reason).
 */
export async function toWireMessage(
  message: BrowserOutgoing, binary: boolean | undefined, limit: number, signal: AbortSignal | undefined,
): Promise<WireMessage> {
  let data: BrowserOutgoing | StreamOutgoing = message;
  let text = binary === undefined ? undefined : !binary;
  if (typeof data === 'object' && data !== null && !isReadableStream(data) && !isBlob(data) && !ArrayBuffer.isView(data) && 'type' in data) {
    if (isMessage(data)) {
      text ??= data.type === 'text';
      const bytes = await data.bytes();
      if (bytes.length > limit) throw tooBig(limit, `A message of ${bytes.length} bytes`);
      return asType(bytes, text);
    }
    if (!('data' in data) || (data.type !== 'text' && data.type !== 'binary')) {
      throw new TypeError("Cannot send this object: expected { type: 'text' | 'binary', data }");
    }
    text ??= data.type === 'text';
    data = data.data;
  }
  if (typeof data === 'string') {
    if (exceedsSize(data, limit)) throw tooBig(limit, 'A string');
    return text === false ? encoder.encode(data) : data;
  }
  if (isBlob(data)) {
    if (data.size > limit) throw tooBig(limit, `A Blob of ${data.size} bytes`);
    return asType(new Uint8Array(await data.arrayBuffer()), text === true);
  }
  if (isReadableStream(data)) return asType(await collect(data, limit, signal), text === true);
  const bytes = plainBytes(data as BinaryData);
  if (bytes.length > limit) throw tooBig(limit, `A message of ${bytes.length} bytes`);
  return asType(bytes, text === true);
}

/** Reads a byte stream whole, at most `limit` bytes; cancels it on too much, a bad chunk or `signal`. */
async function collect(source: ReadableStream<Uint8Array>, limit: number, signal: AbortSignal | undefined): Promise<Uint8Array<ArrayBuffer>> {
  const reader = source.getReader();
  const stopListening = signal === undefined ? undefined : whenAborted(signal, () => void reader.cancel(signal.reason).catch(() => undefined));
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  try {
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const r = await reader.read();
      if (signal?.aborted) throw signal.reason;
      if (r.done) break;
      if (!ArrayBuffer.isView(r.value)) throw new TypeError(`A stream sent as a message must give bytes, got ${Object.prototype.toString.call(r.value)}`);
      const chunk = plainBytes(r.value);
      size += chunk.length;
      if (size > limit) throw tooBig(limit, 'A stream');
      chunks.push(chunk);
    }
  } catch (err) {
    void reader.cancel(err).catch(() => undefined);
    throw err;
  } finally {
    stopListening?.();
    reader.releaseLock();
  }
  // One copy, made by the browser: a Blob of the chunks read as one buffer.
  return new Uint8Array(await new Blob(chunks).arrayBuffer());
}
