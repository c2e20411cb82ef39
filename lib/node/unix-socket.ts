// Unix domain sockets: ws's `ws+unix:` URLs on the client, a socket path to listen on for `serve`.
import { lstatSync, unlinkSync } from 'node:fs';
import { connect as netConnect, type Server } from 'node:net';

/** A `ws+unix:` (or `wss+unix:`) URL taken apart: where to connect, and the `ws:` URL the handshake asks for. */
export interface UnixTarget {
  readonly socketPath: string;
  /** `ws://localhost` + the request path and query: what the opening handshake sends. */
  readonly url: URL;
}

/**
 * Reads ws's syntax, `ws+unix:///path/to/socket:/request/path?query` (the socket path, a colon,
 * then the request path; no colon means `/`), and `wss+unix:` for TLS over the socket.
 * Returns `undefined` for any other scheme. The
 * `Host` header is `localhost`, as node's HTTP client sends for a socket path.
 */
export function parseUnixUrl(input: string | URL): UnixTarget | undefined {
  const text = String(input);
  const scheme = /^(wss?)\+unix:/i.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SyntaxError(`Invalid WebSocket URL ${JSON.stringify(text)}`);
  }
  if (url.hash !== '') throw new SyntaxError(`A WebSocket URL may not have a fragment: ${JSON.stringify(text)}`);
  const pathname = decodeURIComponent(url.pathname);
  const colon = pathname.indexOf(':');
  const socketPath = colon < 0 ? pathname : pathname.slice(0, colon);
  const requestPath = colon < 0 || colon === pathname.length - 1 ? '/' : pathname.slice(colon + 1);
  if (socketPath === '') throw new SyntaxError(`A ws+unix: URL needs a socket path: ${JSON.stringify(text)}`);
  if (!requestPath.startsWith('/')) throw new SyntaxError(`The request path of ${JSON.stringify(text)} must start with "/"`);
  return { socketPath, url: new URL(`${scheme}://localhost${requestPath}${url.search}`) };
}

/** Whether something accepts connections on the Unix socket at `path` (bounded by one connect attempt). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = netConnect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/**
 * Listens on the Unix socket `path`. A socket file left by a process that died (nothing
 * accepts on it) is removed and listening retried once; a live socket, or a file that is not a
 * socket, is never removed: the `EADDRINUSE` error stands.
 */
export async function listenUnix(server: Server, path: string): Promise<void> {
  const listen = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  try {
    await listen();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    let isSocket = false;
    try {
      isSocket = lstatSync(path).isSocket();
    } catch {
      throw err;
    }
    if (!isSocket || (await answers(path))) throw err;
    unlinkSync(path);
    await listen();
  }
}
