// The opening handshake over a socket that is a pair of web streams (Deno.connect's), done with
// the runtime-neutral entries only: `websocket-streams/sans-io` builds and checks the handshake,
// `websocket-streams` runs the connection over a WebStreamTransport. What is left to the caller
// in such a runtime is reading the HTTP head off the stream; readHttpHead does that, bounded.
import { Connection, WebStreamTransport, type HandshakeInfo } from '../../lib/index';
import {
  buildAcceptResponse, buildClientRequest, buildRejectionResponse, computeAccept, generateKey,
  negotiateExtensions, validateServerResponse, validateUpgradeRequest, type ExtensionFactory, type HeaderMap,
} from '../../lib/sans-io';
import type { StreamSocket } from './stream-socket';

/** A handshake head is a few hundred bytes; past this the peer is not speaking WebSocket. */
const MAX_HEAD = 16 * 1024;

/** An HTTP head read off a stream: its first line, headers (lower-case names), and the bytes after it. */
export interface HttpHead {
  startLine: string;
  headers: Record<string, string | string[]>;
  rest: Uint8Array;
}

function headEnd(bytes: Uint8Array, from: number): number {
  for (let i = Math.max(0, from - 3); i + 4 <= bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  }
  return -1;
}

/** Reads up to the blank line that ends an HTTP head (RFC 9112 §2.1); the reader stays usable. */
export async function readHttpHead(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<HttpHead> {
  let buf = new Uint8Array(0);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`The peer ended the connection inside the HTTP head (${buf.length} bytes)`);
    const joined = new Uint8Array(buf.length + value.length);
    joined.set(buf);
    joined.set(value, buf.length);
    const end = headEnd(joined, buf.length);
    buf = joined;
    if (end >= 0) {
      const [startLine = '', ...lines] = new TextDecoder('latin1').decode(buf.subarray(0, end)).split('\r\n');
      const headers: Record<string, string | string[]> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon <= 0) throw new Error(`Malformed header line ${JSON.stringify(line)}`);
        const name = line.slice(0, colon).toLowerCase();
        const value = line.slice(colon + 1).trim();
        const known = headers[name];
        headers[name] = known === undefined ? value : [...(Array.isArray(known) ? known : [known]), value];
      }
      return { startLine, headers, rest: buf.slice(end + 4) };
    }
    if (buf.length > MAX_HEAD) throw new Error(`No end of the HTTP head in ${buf.length} bytes`);
  }
}

async function writeText(socket: StreamSocket, text: string): Promise<void> {
  const writer = socket.writable.getWriter();
  await writer.write(new TextEncoder().encode(text));
  writer.releaseLock();
}

async function readHead(socket: StreamSocket): Promise<HttpHead> {
  const reader = socket.readable.getReader();
  try {
    return await readHttpHead(reader);
  } finally {
    reader.releaseLock();
  }
}

const flat = (headers: HeaderMap): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]));

/** The client side: sends the upgrade request for `url`, checks the 101, and opens the connection. */
export async function clientOverStreams(socket: StreamSocket, url: string, extensions: readonly ExtensionFactory[] = []): Promise<Connection> {
  const request = buildClientRequest(url, { key: generateKey(), extensions });
  const lines = Object.entries(request.headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  await writeText(socket, `GET ${request.path} HTTP/1.1\r\n${lines}\r\n`);
  const head = await readHead(socket);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head.startLine)?.[1]);
  const result = validateServerResponse(request, await computeAccept(request.key), status, head.headers);
  const handshake: HandshakeInfo = {
    path: request.path, url: request.url.href, protocol: result.protocol, extensions: result.extensionsHeader,
    requestHeaders: request.headers, responseHeaders: result.headers, remoteAddress: undefined, remotePort: undefined,
  };
  const transport = new WebStreamTransport(socket.readable, socket.writable, { closeWrite: socket.closeWrite });
  return new Connection(transport, { role: 'client', handshake, activeExtensions: result.extensions, head: head.rest });
}

/** The server side: reads the upgrade request, answers 101 (or refuses it and throws), and opens the connection. */
export async function serverOverStreams(socket: StreamSocket, extensions: readonly ExtensionFactory[] = []): Promise<Connection> {
  const head = await readHead(socket);
  const [method = '', path = '/', version = ''] = head.startLine.split(' ');
  const upgrade = validateUpgradeRequest(method, version.replace(/^HTTP\//, ''), head.headers);
  if (!upgrade.ok) {
    const body = new TextEncoder().encode(upgrade.reason);
    await writeText(socket, buildRejectionResponse(upgrade.status, upgrade.headers, body.length) + upgrade.reason);
    await socket.writable.close();
    throw new Error(`Refused the upgrade with ${upgrade.status}: ${upgrade.reason}`);
  }
  const negotiated = negotiateExtensions(upgrade.extensions, extensions);
  await writeText(socket, buildAcceptResponse({ accept: await computeAccept(upgrade.key), extensions: negotiated.header }));
  const handshake: HandshakeInfo = {
    path, url: `ws://${flat(head.headers).host ?? ''}${path}`, protocol: '', extensions: negotiated.header,
    requestHeaders: flat(head.headers), responseHeaders: {}, remoteAddress: undefined, remotePort: undefined,
  };
  const transport = new WebStreamTransport(socket.readable, socket.writable, { closeWrite: socket.closeWrite });
  return new Connection(transport, { role: 'server', handshake, activeExtensions: negotiated.extensions, head: head.rest });
}
