// The opening handshake over a socket that is a pair of web streams (Deno.connect's), done with
// the runtime-neutral entries only: `websocket-streams/sans-io` builds and checks the handshake,
// `websocket-streams` runs the connection over a WebStreamTransport. What is left to the caller
// in such a runtime is reading the HTTP head off the stream (http-head.ts).
import { Connection, WebStreamTransport, type HandshakeInfo } from '../../lib/index';
import {
  buildAcceptResponse, buildClientRequest, buildRejectionResponse, computeAccept, generateKey,
  negotiateExtensions, validateServerResponse, validateUpgradeRequest, type ExtensionFactory, type HeaderMap,
} from '../../lib/sans-io';
import { readHttpHead, type HttpHead } from './http-head';
import type { StreamSocket } from './stream-socket';

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
