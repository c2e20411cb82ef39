// HTTP CONNECT proxies (RFC 9110 §9.3.6): which proxy a URL goes through, and the tunnel to it.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { HandshakeError } from '../handshake/errors';
import { flattenHeaders } from '../handshake/header-values';

/**
 * The `proxy` option of `connect`: an `http://[user:password@]host[:port]` URL to tunnel
 * through with CONNECT, or `'env'` to take it from `HTTPS_PROXY` (for `wss:`) or `HTTP_PROXY`
 * (for `ws:`), lower-case names first, unless `NO_PROXY` excludes the host.
 */
export type ProxySetting = string | URL;

/** Environment variables as `process.env` holds them. */
type Env = Readonly<Record<string, string | undefined>>;

/** curl's default proxy port, when the proxy URL names none. */
const DEFAULT_PROXY_PORT = 1080;

const envValue = (env: Env, name: string): string | undefined => {
  const value = env[name.toLowerCase()] ?? env[name.toUpperCase()];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
};

/** A proxy URL from the option or the environment; `host:port` alone is taken as `http://host:port`. */
function parseProxyUrl(input: string | URL, from: string): URL {
  const text = String(input);
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`);
  } catch {
    throw new TypeError(`${from} is not a proxy URL: ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:') throw new TypeError(`${from} must be an http: proxy URL (CONNECT over plain HTTP), got ${url.protocol}`);
  return url;
}

/**
 * Whether `NO_PROXY` (curl's rules) exempts `target`: a comma- or space-separated list where
 * `*` matches every host, a name matches itself and its subdomains (a leading dot is ignored),
 * an IP address matches itself (IPv6 with or without brackets), and `:port` after an entry
 * limits it to that port. Names compare case-insensitively. CIDR ranges are not supported.
 */
export function isExemptFromProxy(noProxy: string | undefined, target: URL): boolean {
  if (noProxy === undefined) return false;
  const host = stripBrackets(target.hostname.toLowerCase()).replace(/\.$/, '');
  const port = target.port !== '' ? target.port : target.protocol === 'wss:' || target.protocol === 'https:' ? '443' : '80';
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    let name = entry;
    let entryPort: string | undefined;
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    if (bracketed) {
      name = bracketed[1];
      entryPort = bracketed[2];
    } else if (isIP(entry) !== 6) {
      const m = /^(.*):(\d+)$/.exec(entry);
      if (m) {
        name = m[1];
        entryPort = m[2];
      }
    }
    if (entryPort !== undefined && entryPort !== port) continue;
    name = name.replace(/^\./, '').replace(/\.$/, '');
    if (name === host) return true;
    if (isIP(host) === 0 && isIP(name) === 0 && host.endsWith(`.${name}`)) return true;
  }
  return false;
}

const stripBrackets = (host: string): string => (host.startsWith('[') ? host.slice(1, -1) : host);

/**
 * The proxy to reach `target` (a `ws:` or `wss:` URL) through, or `undefined` to connect
 * directly. An explicit URL is always used; `'env'` reads the environment as curl does.
 */
export function resolveProxy(setting: ProxySetting | undefined, target: URL, env: Env = process.env): URL | undefined {
  if (setting === undefined) return undefined;
  if (setting !== 'env') return parseProxyUrl(setting, 'The proxy option');
  const name = target.protocol === 'wss:' ? 'https_proxy' : 'http_proxy';
  const value = envValue(env, name);
  if (value === undefined || isExemptFromProxy(envValue(env, 'no_proxy'), target)) return undefined;
  return parseProxyUrl(value, name.toUpperCase());
}

/**
 * Opens a CONNECT tunnel through `proxy` to `host:port` and resolves with the socket, bytes
 * after the proxy's 200 being the target's. Credentials in the proxy URL go as
 * `Proxy-Authorization: Basic` (RFC 7617). A refusal rejects with a `HandshakeError` of kind
 * `PROXY_REFUSED` carrying the proxy's status and headers; an unreachable proxy with
 * `CONNECTION_FAILED`. `signal` drops the attempt.
 */
export function openTunnel(proxy: URL, host: string, port: number, signal: AbortSignal): Promise<Socket> {
  const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  const headers: Record<string, string> = { Host: authority };
  if (proxy.username !== '' || proxy.password !== '') {
    const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    headers['Proxy-Authorization'] = `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
  }
  const proxyHost = stripBrackets(proxy.hostname);
  const proxyPort = proxy.port === '' ? DEFAULT_PROXY_PORT : Number(proxy.port);
  const where = `the HTTP proxy ${proxy.host}`;
  return new Promise<Socket>((resolve, reject) => {
    const req = httpRequest({
      method: 'CONNECT',
      host: proxyHost,
      port: proxyPort,
      path: authority,
      headers,
      setHost: false,
      createConnection: (): Socket => netConnect({ host: proxyHost, port: proxyPort, allowHalfOpen: true }),
    });
    const onAbort = (): void => {
      req.destroy();
      reject(new HandshakeError('ABORTED', 'The WebSocket handshake was aborted', { cause: signal.reason }));
    };
    const refused = (res: IncomingMessage): HandshakeError =>
      new HandshakeError('PROXY_REFUSED', `${where} refused to open a tunnel to ${authority}: ${res.statusCode} ${res.statusMessage ?? ''}`.trim(), {
        status: res.statusCode,
        headers: flattenHeaders(res.headers),
      });
    req.once('connect', (res: IncomingMessage, socket: Socket, head: Buffer) => {
      signal.removeEventListener('abort', onAbort);
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        socket.destroy();
        reject(refused(res));
        return;
      }
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    // Node takes every answer to CONNECT as 'connect'; a plain response is handled all the same.
    req.once('response', (res: IncomingMessage) => {
      signal.removeEventListener('abort', onAbort);
      req.destroy();
      reject(refused(res));
    });
    req.once('error', (err: Error) => {
      signal.removeEventListener('abort', onAbort);
      reject(new HandshakeError('CONNECTION_FAILED', `Could not open a tunnel through ${where}: ${err.message}`, { cause: err }));
    });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    req.end();
  });
}
