// How a Connection talks to its bytes: the one interface a runtime adapter implements.

/** What a transport reports to its connection. */
export interface TransportSink {
  /** Bytes from the peer. The chunk belongs to the connection from now on (it may keep views). */
  onData(chunk: Uint8Array): void;
  /** The peer will send no more bytes (TCP FIN or the readable side ended). */
  onEnd(): void;
  /** The transport failed (reset, TLS error). `onClose` follows. */
  onError(error: Error): void;
  /** The write side went back below its high-water mark after `write` returned false. */
  onDrain(): void;
  /** Both directions are finished and every resource is released. Called exactly once. */
  onClose(): void;
}

/**
 * A duplex byte pipe under a WebSocket connection: a TCP or TLS socket in the Node adapter,
 * a pair of web byte streams elsewhere. The read side must honour `pause()` (nothing is read
 * from the OS while paused), which is how backpressure reaches the peer.
 */
export interface ByteTransport {
  /** Starts delivery to `sink`. Called once. Reading starts paused only if `pause()` came first. */
  attach(sink: TransportSink): void;
  /** Stops delivering received bytes (and reading them from the OS) until `resume()`: backpressure. */
  pause(): void;
  /** Delivers received bytes again after `pause()`. */
  resume(): void;
  /**
   * Queues bytes for sending, in order, without copying them. Returns false when the queued
   * amount is at or above the high-water mark: the caller waits for `onDrain` before more.
   */
  write(chunks: readonly Uint8Array[]): boolean;
  /** Bytes queued by `write` and not yet handed to the OS. */
  readonly bufferedAmount: number;
  /** Sends what is queued, then half-closes the write side (TCP FIN). */
  end(): void;
  /** Drops the connection at once, discarding queued bytes. */
  destroy(error?: Error): void;
}
