import { CloseCode } from '../codec/constants';
import type { ViolationKind } from '../codec/violation';
import { enforceCloseCodeRange, validateWebCloseInfo } from './web-close-rules';

/**
 * Why a connection ended, beside the close code (which stays what the wire said: a heartbeat
 * timeout, a TCP reset and a transport that ended without a close frame all read 1006):
 *
 * - `'close-handshake'`: both close frames were exchanged (either side started it); `code` is the peer's.
 * - `'protocol-error'`: we failed the connection (the peer broke RFC 6455/7692, or an extension
 *   failed locally); `code` says which rule (1002, 1007, 1009, …), `reason` our message.
 * - `'heartbeat-timeout'`: nothing came from the peer within `autoPingTimeout` after our ping.
 * - `'close-timeout'`: our close frame went out and the peer's did not come within `closeTimeout`.
 * - `'abandoned'`: our close frame could not be sent (a frame begun with `beginFrame()` was left
 *   unfinished), so the transport was ended without it; `error` says why.
 * - `'transport-error'`: the transport failed (a TCP reset, a TLS error); `error` is what it reported.
 * - `'transport-ended'`: the transport ended without an error before the close handshake completed.
 */
export type CloseEndedBy =
  | 'close-handshake'
  | 'protocol-error'
  | 'heartbeat-timeout'
  | 'close-timeout'
  | 'abandoned'
  | 'transport-error'
  | 'transport-ended';

/** How a connection ended. `closed` resolves with it and never rejects. */
export interface CloseInfo {
  /** Both close frames were exchanged and the transport ended without error (RFC 6455 §7.1.5–7.1.6). */
  readonly wasClean: boolean;
  /**
   * The peer's close code on a clean close (1005 if its close frame had none), the code we
   * failed the connection with, or 1006 when the transport was lost without a close frame.
   */
  readonly code: number;
  /** The close reason that came with `code` ('' when none). */
  readonly reason: string;
  /** Why the connection ended (see `CloseEndedBy`); not on the wire, for logs and metrics. */
  readonly endedBy: CloseEndedBy;
  /** The error behind `'transport-error'`, `'heartbeat-timeout'` and `'abandoned'` (and any transport error reported along the way). */
  readonly error?: Error;
}

/** Stable identifiers for why a stream or send failed, beside the close code. */
export type WebSocketErrorKind =
  | ViolationKind | 'CONNECTION_LOST' | 'CLOSED' | 'DISCARDED' | 'FRAME_LENGTH_MISMATCH' | 'INTERNAL'
  /** `ping(data)` with the payload of a ping still waiting for its pong (nothing was sent). */
  | 'PING_IN_FLIGHT'
  /** A ping given up for newer ones: more than `MAX_PENDING_PINGS` waited for their pongs. */
  | 'PING_UNANSWERED'
  /**
   * Made by the application with the WHATWG constructor (`new WebSocketError(message, { closeCode, reason })`,
   * no `kind`), typically to close a `WebSocketStream` with a code: `readable.cancel(err)`, `writable.abort(err)`.
   */
  | 'APPLICATION';

/**
 * What a `WebSocketError` is made of: its stable `kind`, and the close that came with it, if any.
 * Without `kind` it is the WHATWG `WebSocketCloseInfo` of the web platform's constructor, and
 * checked as the standard says (see `WebSocketError`).
 */
export interface WebSocketErrorInit {
  /** How it failed, stable to branch on (see `WebSocketErrorKind`); `'APPLICATION'` when left out. */
  readonly kind?: WebSocketErrorKind;
  /**
   * The close code that ended the connection; `null` (the default) when the error did not close
   * it. Without `kind`: 1000 or 3000–4999, else an `InvalidAccessError` DOMException.
   */
  readonly closeCode?: number | null;
  /** The close reason; `''` by default. Without `kind`: at most 123 UTF-8 bytes, else a `SyntaxError` DOMException. */
  readonly reason?: string;
  /** The error behind this one, if any (becomes `Error.cause`). */
  readonly cause?: unknown;
}

/**
 * Why a message, frame or send could not complete. As the WHATWG WebSocketStream's
 * `WebSocketError`, it carries `closeCode` and `reason`: the close code that ended the
 * connection (the peer's, the one we failed it with, or 1006 when it was lost) and the close
 * reason. `kind` is a stable identifier to branch on. Local misuse that did not end the
 * connection (a message or frame discarded by reading the next one, a frame written with more
 * or fewer bytes than it declared) has `closeCode` `null`.
 *
 * It is also the web platform's `WebSocketError`: `new WebSocketError(message?, { closeCode?, reason? })`
 * (no `kind`) follows the WHATWG constructor. The code must be 1000 or in 3000–4999
 * (`InvalidAccessError` DOMException), the reason at most 123 UTF-8 bytes (`SyntaxError`
 * DOMException), and a non-empty reason without a code gets 1000. Its `kind` is
 * `'APPLICATION'`. Unlike the web platform's, it extends `Error`, not `DOMException`.
 *
 * @example
 * ```ts
 * try { await msg.bytes(); }
 * catch (err) { if (err instanceof WebSocketError && err.closeCode === 1009) console.log('too big'); }
 * // Closing a WebSocketStream with a code: the web platform's way.
 * await readable.cancel(new WebSocketError('done', { closeCode: 4000, reason: 'bye' }));
 * ```
 */
export class WebSocketError extends Error {
  /** Always `'WebSocketError'`, to tell it apart without `instanceof`. */
  override readonly name = 'WebSocketError';
  /** The close code that ended the connection, or `null` when the error did not end it. */
  readonly closeCode: number | null;
  /** The close reason (`''` when none). */
  readonly reason: string;
  /** Stable identifier of what went wrong: a `ViolationKind` or one of the stream tier's own. */
  readonly kind: WebSocketErrorKind;

  constructor(message = '', init: WebSocketErrorInit = {}) {
    super(String(message), init.cause === undefined ? undefined : { cause: init.cause });
    if (init.kind !== undefined) {
      this.kind = init.kind;
      this.closeCode = init.closeCode ?? null;
      this.reason = init.reason ?? '';
      return;
    }
    // The WHATWG constructor steps: validate, then a reason without a code gets 1000, since
    // no close frame can carry a reason without a code.
    const code = init.closeCode === undefined || init.closeCode === null ? null : enforceCloseCodeRange(init.closeCode);
    const reason = init.reason === undefined ? '' : `${init.reason}`;
    validateWebCloseInfo(code, reason);
    this.kind = 'APPLICATION';
    this.closeCode = code ?? (reason === '' ? null : 1000);
    this.reason = reason;
  }
}

/** @internal */
export const connectionLost = (cause?: unknown): WebSocketError =>
  new WebSocketError('The connection was lost before the close handshake completed', { closeCode: CloseCode.AbnormalClosure, kind: 'CONNECTION_LOST', cause });
