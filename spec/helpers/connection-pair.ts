import { Connection } from '../../lib/streams/connection';
import type { ConnectionOptions, HandshakeInfo, RuntimeHooks } from '../../lib/streams/connection-init';
import type { Extension } from '../../lib/protocol/extension';
import { MemoryTransport } from './memory-transport';

export const handshakeInfo = (over: Partial<HandshakeInfo> = {}): HandshakeInfo => ({
  path: '/', url: 'ws://test/', protocol: '', extensions: '', requestHeaders: {}, responseHeaders: {},
  remoteAddress: undefined, remotePort: undefined, ...over,
});

export interface Pair {
  client: Connection;
  server: Connection;
  clientTransport: MemoryTransport;
  serverTransport: MemoryTransport;
}

/** A client and a server connection talking over an in-memory transport pair. */
export function connectionPair(
  opts: { client?: ConnectionOptions; server?: ConnectionOptions; hwm?: number; clientExtensions?: Extension[]; serverExtensions?: Extension[] } = {},
): Pair {
  const [clientTransport, serverTransport] = MemoryTransport.pair(opts.hwm);
  const server = new Connection(serverTransport, { role: 'server', handshake: handshakeInfo(), options: opts.server, activeExtensions: opts.serverExtensions });
  const client = new Connection(clientTransport, { role: 'client', handshake: handshakeInfo(), options: opts.client, activeExtensions: opts.clientExtensions });
  return { client, server, clientTransport, serverTransport };
}

/** Only a server connection; the test writes raw client bytes into `peer`. */
export function rawServer(options?: ConnectionOptions, runtime?: RuntimeHooks): { server: Connection; peer: MemoryTransport; serverTransport: MemoryTransport } {
  const [peer, serverTransport] = MemoryTransport.pair();
  const server = new Connection(serverTransport, { role: 'server', handshake: handshakeInfo(), options, runtime });
  peer.attach({ onData: () => {}, onEnd: () => {}, onError: () => {}, onDrain: () => {}, onClose: () => {} });
  return { server, peer, serverTransport };
}

export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    n += value.length;
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const hex = (s: string): Uint8Array => new Uint8Array((s.replace(/\s+/g, '').match(/../g) ?? []).map((b) => parseInt(b, 16)));
export const toHex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
export const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};
