/** RFC 6455 connection states after the opening handshake (the handshake is the adapter's). */
export const ReadyState = {
  /** 1: the opening handshake is done; messages flow both ways. */
  Open: 1,
  /** 2: a close frame was sent or received; the closing handshake is under way. */
  Closing: 2,
  /** 3: the connection is closed, or could not be opened. */
  Closed: 3,
} as const;
export type ReadyState = (typeof ReadyState)[keyof typeof ReadyState];

/** Close bookkeeping: who sent what, in RFC vocabulary (§7.1.4–7.1.6). */
export interface CloseState {
  /** Code and reason of the close frame we sent, once sent. */
  sent: { code: number; reason: string } | undefined;
  /** Code and reason of the close frame we received (1005 / '' for an empty one). */
  received: { code: number; reason: string } | undefined;
}
