import type { Socket } from 'node:net';
import { WebSocket as WsClient } from 'ws';

/** One message a `RecordingClient` received. */
export interface Received {
  readonly binary: boolean;
  readonly data: Buffer;
}

/**
 * A ws client (a real, independent peer) that records every message it receives and lets a
 * test wait for the n-th one, or stop reading its socket.
 */
export class RecordingClient {
  readonly ws: WsClient;
  readonly messages: Received[] = [];
  #waiter: { n: number; resolve(): void } | undefined;

  constructor(url: string, perMessageDeflate = false) {
    this.ws = new WsClient(url, { perMessageDeflate });
    this.ws.on('message', (data: Buffer, binary: boolean) => {
      this.messages.push({ binary, data });
      if (this.#waiter !== undefined && this.messages.length >= this.#waiter.n) this.#waiter.resolve();
    });
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }

  received(n: number): Promise<void> {
    if (this.messages.length >= n) return Promise.resolve();
    return new Promise((resolve) => (this.#waiter = { n, resolve }));
  }

  /** The messages received as text (binary ones as their UTF-8 reading). */
  get texts(): string[] {
    return this.messages.map((m) => m.data.toString('utf8'));
  }

  /** The socket under ws (to stop reading it). */
  get socket(): Socket {
    return (this.ws as unknown as { _socket: Socket })._socket;
  }
}
