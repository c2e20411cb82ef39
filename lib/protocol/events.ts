import type { FrameHeader } from '../codec/frame-header';
import type { ProtocolViolation } from '../codec/violation';

/**
 * What the protocol reports, in wire order. Data frames come as start / data… / end so that
 * payload streams through; control frames come whole (they are at most 125 bytes).
 */
export type ProtocolEvent =
  | {
      readonly type: 'frame-start';
      readonly header: FrameHeader;
      /** True on the first frame of a message. */
      readonly first: boolean;
      /** The message's opcode (text, binary or an allowed reserved one), also on continuations. */
      readonly messageOpcode: number;
      /** The message's RSV bits as set on its first frame. */
      readonly messageRsv: number;
      /** An extension owns an RSV bit set on this message: its payload must be decoded first. */
      readonly encoded: boolean;
    }
  /** `maskKey`/`maskPhase`: `data` is still masked (only when `nextEvent(true)` asked; see `FrameParser.next`). */
  | { readonly type: 'frame-data'; readonly data: Uint8Array; readonly maskKey?: Uint8Array; readonly maskPhase?: number }
  | { readonly type: 'frame-end'; readonly fin: boolean }
  | { readonly type: 'ping'; readonly data: Uint8Array }
  | { readonly type: 'pong'; readonly data: Uint8Array }
  /** A reserved control opcode the user opted in to. */
  | { readonly type: 'control'; readonly opcode: number; readonly rsv: number; readonly data: Uint8Array }
  /** The peer's close frame. The echo, if owed, is already in the output. */
  | { readonly type: 'close'; readonly code: number; readonly reason: string }
  /** We failed the connection: the close frame with `violation.closeCode` is in the output. */
  | { readonly type: 'failed'; readonly violation: ProtocolViolation };
