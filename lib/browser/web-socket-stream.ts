// The WHATWG WebSocketStream API (https://websockets.spec.whatwg.org/#the-websocketstream-interface),
// as far as we use it. TypeScript's DOM lib does not declare it yet (Chromium ships it since
// 124; other engines do not), so it is typed here and found on `globalThis` at run time.

/** What `WebSocketStream.opened` resolves with. */
export interface WebSocketStreamOpen {
  readonly readable: ReadableStream<string | Uint8Array | ArrayBuffer>;
  readonly writable: WritableStream<string | BufferSource>;
  readonly protocol: string;
  readonly extensions: string;
}

/** What `WebSocketStream.closed` resolves with (a clean close). */
export interface WebSocketStreamCloseInfo {
  readonly closeCode?: number;
  readonly reason?: string;
}

/** An instance of `WebSocketStream`. */
export interface WebSocketStreamLike {
  readonly url: string;
  readonly opened: Promise<WebSocketStreamOpen>;
  readonly closed: Promise<WebSocketStreamCloseInfo>;
  close(info?: WebSocketStreamCloseInfo): void;
}

/** The `WebSocketStream` constructor. */
export type WebSocketStreamClass = new (url: string, options?: { protocols?: string[]; signal?: AbortSignal }) => WebSocketStreamLike;

/** The runtime's `WebSocketStream`, or `undefined` where it has none (feature detection). */
export function webSocketStreamClass(): WebSocketStreamClass | undefined {
  const c = (globalThis as { WebSocketStream?: unknown }).WebSocketStream;
  return typeof c === 'function' ? (c as WebSocketStreamClass) : undefined;
}
