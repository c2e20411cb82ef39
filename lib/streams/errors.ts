import { CloseCode } from '../codec/constants';
import type { ViolationKind } from '../codec/violation';

/** How a connection ended. `closed` resolves with it and never rejects. */
export interface CloseInfo {
  /** Both close frames were exchanged and the transport ended without error (RFC 6455 §7.1.5–7.1.6). */
  readonly wasClean: boolean;
  /**
   * The peer's close code on a clean close (1005 if its close frame had none), the code we
   * failed the connection with, or 1006 when the transport was lost without a close frame.
   */
  readonly code: number;
  readonly reason: string;
}

/** Stable identifiers for why a stream or send failed, beside the close code. */
export type WebSocketErrorKind = ViolationKind | 'CONNECTION_LOST' | 'CLOSED' | 'DISCARDED' | 'FRAME_LENGTH_MISMATCH' | 'INTERNAL';

/**
 * Why a message, frame or send could not complete: the connection failed or closed. Carries
 * the close code that ended it (`code`) and the close reason (`reason`).
 *
 * @example
 * ```ts
 * try { await msg.bytes(); }
 * catch (err) { if (err instanceof WebSocketError && err.code === 1009) console.log('too big'); }
 * ```
 */
export class WebSocketError extends Error {
  override readonly name = 'WebSocketError';
  constructor(
    message: string,
    readonly code: number,
    readonly reason: string,
    readonly kind: WebSocketErrorKind,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const connectionLost = (cause?: unknown): WebSocketError =>
  new WebSocketError('The connection was lost before the close handshake completed', CloseCode.AbnormalClosure, '', 'CONNECTION_LOST', { cause });
