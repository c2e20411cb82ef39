// One message to many connections, encoded once: the frame's bytes are built once and the
// same chunks are handed to every connection that can take them as they are.
import { CloseCode, Opcode, Rsv } from '../codec/constants';
import { encodeFrameHeader, headerSize } from '../codec/frame-header';
import { DeflateExtension } from '../extensions/permessage-deflate/permessage-deflate';
import type { SharedDeflate } from '../extensions/permessage-deflate/shared-deflate';
import { ReadyState } from '../protocol/state';
import type { Connection } from './connection';
import { encodeText, toBytes, type BinaryData } from './outgoing';

/** Options of `broadcast()` and `server.broadcast()`. */
export interface BroadcastOptions {
  /**
   * A connection with more than this many bytes queued for sending gets nothing: the bytes
   * its transport has not yet handed to the operating system (`bufferedAmount`) plus those of
   * broadcasts waiting behind a message being sent on it. So a connection holds at most this
   * plus one message of broadcasts, however many are sent to a peer that stops reading.
   * Default 1 MiB (the default `sendHighWaterMark`); 0 sends only to connections with
   * nothing queued.
   */
  readonly maxBuffered?: number;
  /**
   * What happens to a connection over `maxBuffered`: `'skip'` (default) leaves it open and
   * sends it nothing; `'close'` also starts closing it with 1008 (policy violation), for
   * servers that would rather drop a consumer that cannot keep up than let it miss messages.
   * Either way it counts as `skipped`.
   */
  readonly whenFull?: 'skip' | 'close';
  /**
   * Compress for connections that negotiated permessage-deflate without context takeover on
   * this side (`serverNoContextTakeover` on a server): one compressed payload per set of
   * compression parameters, shared by all of them. Default true. Other connections always get
   * the message uncompressed (see `broadcast()`).
   */
  readonly compress?: boolean;
}

/** What a broadcast did, connection by connection, for monitoring. */
export interface BroadcastResult {
  /** Connections the message was handed to: written to the transport, or queued behind a message being sent on it. */
  readonly sent: number;
  /** Open connections that got nothing because more than `maxBuffered` bytes were queued on them. */
  readonly skipped: number;
  /** Connections that got nothing because they were closing or closed. */
  readonly closed: number;
}

const DEFAULT_MAX_BUFFERED = 1024 * 1024;

/**
 * Sends one message to every open connection of `connections`, encoded once: a string is
 * UTF-8 encoded once (a text message), bytes are a binary message, copied once. Returns at
 * once with what it did; it never throws for a connection, and nothing it does can end in an
 * unhandled rejection (a connection lost meanwhile reports it through its `closed`).
 *
 * - Server connections share one frame (servers do not mask): the very same bytes are
 *   written to each. A client connection must mask every frame with a fresh key of its own
 *   (RFC 6455 §5.3), so it gets its own frame, framed and masked from the shared payload.
 * - A message is always one unfragmented frame. On a connection that is sending a message
 *   (fragmented, streamed, or being compressed) it is queued behind that message and the
 *   ones waiting for it, never inserted into it, and counts towards `maxBuffered`.
 * - permessage-deflate: connections that agreed no context takeover for this side share one
 *   compressed payload per set of parameters (window bits, level, memory level), compressed
 *   once, asynchronously; each connection's turn is taken now, so messages keep their order.
 *   Connections whose compressor keeps its context (and client connections) get the message
 *   uncompressed, RSV1 clear, which RFC 7692 allows on any message: compressing per
 *   connection would cost a compression per receiver. Messages below the extension's
 *   `threshold` are sent uncompressed, as `send()` does.
 * - A connection with an extension other than permessage-deflate gets the message through
 *   its own `send()` (its extension may need to encode every message).
 * - Connections that are closing or closed are skipped, and so are connections over
 *   `maxBuffered` (see `BroadcastOptions`).
 *
 * @example
 * ```ts
 * import { broadcast, type Connection } from 'websocket-streams';
 *
 * const room = new Set<Connection>();
 * const { sent, skipped } = broadcast(room, JSON.stringify({ event: 'tick' }));
 * ```
 */
export function broadcast(connections: Iterable<Connection>, data: string | BinaryData, options: BroadcastOptions = {}): BroadcastResult {
  const maxBuffered = options.maxBuffered ?? DEFAULT_MAX_BUFFERED;
  if (typeof maxBuffered !== 'number' || Number.isNaN(maxBuffered) || maxBuffered < 0) {
    throw new RangeError(`maxBuffered must be a number ≥ 0, got ${String(maxBuffered)}`);
  }
  const whenFull = options.whenFull ?? 'skip';
  if (whenFull !== 'skip' && whenFull !== 'close') {
    throw new TypeError(`whenFull must be 'skip' or 'close', got ${String(whenFull)}`);
  }
  const message = new SharedMessage(data, options.compress !== false);
  let sent = 0;
  let skipped = 0;
  let closed = 0;
  for (const conn of connections) {
    if (conn.readyState !== ReadyState.Open) {
      closed++;
    } else if (conn._sendBacklog > maxBuffered) {
      skipped++;
      if (whenFull === 'close') conn._closeQuietly(CloseCode.PolicyViolation, 'Too slow to receive broadcast messages');
    } else {
      message.sendTo(conn);
      sent++;
    }
  }
  return { sent, skipped, closed };
}

/** One broadcast message and the frames made of it, each made once, on first need. */
class SharedMessage {
  readonly #opcode: number;
  readonly #compress: boolean;
  /** The unmasked, uncompressed frame: the payload follows the header in the same buffer. */
  readonly #frame: Uint8Array;
  readonly #chunks: readonly Uint8Array[];
  readonly #payload: Uint8Array;
  #deflated: Map<SharedDeflate, Promise<readonly Uint8Array[]>> | undefined;

  constructor(data: string | BinaryData, compress: boolean) {
    let payload: Uint8Array;
    if (typeof data === 'string') {
      this.#opcode = Opcode.Text;
      payload = encodeText(data);
    } else {
      this.#opcode = Opcode.Binary;
      payload = toBytes(data);
    }
    this.#compress = compress;
    // One buffer, header and payload: each connection's write is then a single chunk the
    // socket takes as it is, where [header, payload] would cost every connection a gather.
    // The caller's bytes are copied, so changing them afterwards changes nothing sent.
    const hs = headerSize(payload.length, false);
    const frame = new Uint8Array(hs + payload.length);
    encodeFrameHeader(frame, 0, true, 0, this.#opcode, payload.length, undefined);
    frame.set(payload, hs);
    this.#frame = frame;
    this.#chunks = [frame];
    this.#payload = frame.subarray(hs);
  }

  sendTo(conn: Connection): void {
    const size = this.#frame.length;
    if (conn.role === 'client') {
      conn._sendEncoded(conn._encodeFrame(this.#opcode, this.#payload), size);
      return;
    }
    const extensions = conn._activeExtensions;
    if (extensions.length === 0) {
      conn._sendEncoded(this.#chunks, size);
      return;
    }
    const ext = extensions.length === 1 ? extensions[0] : undefined;
    if (!(ext instanceof DeflateExtension)) {
      void conn._sendBytes(this.#opcode, this.#payload, true);
      return;
    }
    const shared = this.#compress ? ext.sharedDeflate() : undefined;
    if (shared === undefined || this.#payload.length < shared.threshold) {
      conn._sendEncoded(this.#chunks, size);
      return;
    }
    conn._sendEncoded(this.#deflatedFor(shared), size);
  }

  /** The compressed frame for one set of parameters, compressed on first need; the plain frame if compression fails. */
  #deflatedFor(shared: SharedDeflate): Promise<readonly Uint8Array[]> {
    this.#deflated ??= new Map();
    let frame = this.#deflated.get(shared);
    if (frame === undefined) {
      frame = shared.compress(this.#payload).then(
        (compressed) => {
          const hs = headerSize(compressed.length, false);
          const out = new Uint8Array(hs + compressed.length);
          // RFC 7692 §6: RSV1 on the (first and only) frame marks the message compressed.
          encodeFrameHeader(out, 0, true, Rsv.Rsv1, this.#opcode, compressed.length, undefined);
          out.set(compressed, hs);
          return [out];
        },
        // An uncompressed message is valid on any permessage-deflate connection.
        () => this.#chunks,
      );
      this.#deflated.set(shared, frame);
    }
    return frame;
  }
}
