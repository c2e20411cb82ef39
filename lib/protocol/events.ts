import type { FrameHeader } from '../codec/frame-header';
import type { ProtocolViolation } from '../codec/violation';

/**
 * What the protocol reports, in wire order. Data frames come as start / data… / end so that
 * payload streams through; control frames come whole (they are at most 125 bytes).
 */
export type ProtocolEvent =
  | {
      /** Discriminant: a data frame begins. */
      readonly type: 'frame-start';
      /** The frame's header as received. */
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
  | {
      /** Discriminant: payload bytes of the current data frame, as received (before any extension decodes them). */
      readonly type: 'frame-data';
      /** The bytes: a view, unmasked unless `maskKey` is set. */
      readonly data: Uint8Array;
      /** Set only when `data` was left masked: the frame's masking key. */
      readonly maskKey?: Uint8Array;
      /** With `maskKey`: the key byte `data[0]` is masked with (0–3). */
      readonly maskPhase?: number;
    }
  | {
      /** Discriminant: the current data frame ended. */
      readonly type: 'frame-end';
      /** The frame was the message's last (FIN set). */
      readonly fin: boolean;
    }
  | {
      /** Discriminant: the peer pinged; the automatic pong, if on, is already in the output. */
      readonly type: 'ping';
      /** The ping's payload (at most 125 bytes). */
      readonly data: Uint8Array;
    }
  | {
      /** Discriminant: the peer sent a pong. */
      readonly type: 'pong';
      /** The pong's payload (at most 125 bytes). */
      readonly data: Uint8Array;
    }
  /** A reserved control opcode the user opted in to. */
  | {
      /** Discriminant: a control frame with a reserved opcode. */
      readonly type: 'control';
      /** Its opcode (0xB–0xF). */
      readonly opcode: number;
      /** Its RSV bits (see `Rsv`). */
      readonly rsv: number;
      /** Its payload (at most 125 bytes). */
      readonly data: Uint8Array;
    }
  /** The peer's close frame. The echo, if owed, is already in the output. */
  | {
      /** Discriminant: the peer's close frame arrived. */
      readonly type: 'close';
      /** The peer's status code (1005 when its close frame had none). */
      readonly code: number;
      /** The peer's reason ('' when none). */
      readonly reason: string;
    }
  /** We failed the connection: the close frame with `violation.closeCode` is in the output. */
  | {
      /** Discriminant: the connection was failed. */
      readonly type: 'failed';
      /** The broken rule and its close code. */
      readonly violation: ProtocolViolation;
    };
