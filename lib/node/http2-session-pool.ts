// One HTTP/2 session per origin, shared by the WebSockets a client opens over HTTP/2 (RFC 8441),
// and closed when idle so the pool never outlives its use.
import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import { connect as netConnect, isIP } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsConnectionOptions, type TLSSocket } from 'node:tls';
import type { Clock } from '../streams/clock';
import { whenAborted } from '../streams/abort';

/** Why a session cannot carry WebSockets: the origin then gets HTTP/1.1 (when allowed) or a refusal. */
export type NoHttp2Reason =
  /** TLS ALPN chose `http/1.1` (or nothing): the server does not speak HTTP/2 on this port. */
  | 'alpn'
  /** Cleartext prior knowledge (h2c) failed after TCP connected: the server speaks no HTTP/2. */
  | 'no-h2c'
  /** The server's SETTINGS lack SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3). */
  | 'no-connect-protocol';

/** @internal What `acquire` gives: a session to open a stream on, or why there is none. */
export type Acquired =
  | { readonly ok: true; readonly session: ClientHttp2Session; readonly release: () => void }
  | { readonly ok: false; readonly reason: NoHttp2Reason; readonly socket: TLSSocket | undefined };

/** @internal How a session is dialed and how long it may stay idle. */
export interface SessionSettings {
  readonly tls: TlsConnectionOptions | undefined;
  readonly clock: Clock;
  /** Ms a session without WebSockets stays open; 0 closes it when its last one ends. */
  readonly idleTimeout: number;
}

/** @internal A session being opened or open, and how many WebSocket streams use it. */
interface Entry {
  readonly key: string;
  /** Resolves once the server's first SETTINGS came (or why there will be none); rejects when TCP/TLS failed. */
  readonly ready: Promise<Acquired & { ok: false } | { ok: true; session: ClientHttp2Session }>;
  session: ClientHttp2Session | undefined;
  streams: number;
  idleTimer: unknown;
  clock: Clock;
  idleTimeout: number;
  /** The TLS socket ALPN gave `http/1.1`: handed to the first caller for its HTTP/1.1 handshake. */
  spare: TLSSocket | undefined;
  /** Until `ready` settles: drops the socket or session being set up. */
  abortDial: (() => void) | undefined;
}

/** Numbers `tls` option objects, so sessions made with different TLS options are not shared. */
const tlsIds = new WeakMap<object, number>();
let nextTlsId = 1;
const tlsId = (tls: object | undefined): number => {
  if (tls === undefined) return 0;
  let id = tlsIds.get(tls);
  if (id === undefined) tlsIds.set(tls, (id = nextTlsId++));
  return id;
};

/**
 * @internal The HTTP/2 sessions of the process's `connect(url, { http2 })` calls, one per
 * origin and TLS options. A session is shared by every WebSocket to its origin (each a
 * stream); when the last one ends it is unref'd (it keeps no process alive) and closed after
 * `idleTimeout` ms on the connection's clock, or at once with 0. A session that fails,
 * receives GOAWAY or closes leaves the pool; the next WebSocket opens a new one.
 */
export class Http2SessionPool {
  readonly #entries = new Map<string, Entry>();

  /** Sessions open or being opened (for tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * A session for `url`'s origin that takes extended CONNECTs, or why there is none. TCP or
   * TLS failures reject. `signal` says the caller gave up (a timeout, an abort): a session
   * still being set up for nobody else is then dropped, not left to the OS's timeouts (and
   * the next caller for the origin dials afresh).
   */
  async acquire(url: URL, settings: SessionSettings, signal?: AbortSignal): Promise<Acquired> {
    const key = `${url.protocol}//${url.host}#${tlsId(settings.tls)}`;
    let entry = this.#entries.get(key);
    if (entry === undefined || (entry.session !== undefined && (entry.session.closed || entry.session.destroyed))) {
      entry = this.#open(key, url, settings);
      this.#entries.set(key, entry);
    }
    // The latest caller's clock and idle time apply to the session from now on.
    entry.clock = settings.clock;
    entry.idleTimeout = settings.idleTimeout;
    this.#busy(entry);
    const owner = entry;
    const giveUp = (): void => {
      if (owner.abortDial === undefined || owner.streams > 1) return;
      this.#forget(owner);
      owner.abortDial();
    };
    const stopListening = signal === undefined ? undefined : whenAborted(signal, giveUp);
    let result;
    try {
      result = await entry.ready;
    } catch (err) {
      entry.streams--;
      throw err;
    } finally {
      stopListening?.();
    }
    if (!result.ok) {
      entry.streams--;
      const socket = entry.spare;
      entry.spare = undefined;
      return { ok: false, reason: result.reason, socket };
    }
    let released = false;
    return {
      ok: true,
      session: result.session,
      release: () => {
        if (released) return;
        released = true;
        this.#release(owner);
      },
    };
  }

  #busy(entry: Entry): void {
    entry.streams++;
    if (entry.idleTimer !== undefined) entry.clock.clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
    entry.session?.ref();
  }

  #release(entry: Entry): void {
    entry.streams--;
    if (entry.streams > 0) return;
    const session = entry.session;
    if (session === undefined || session.closed || session.destroyed) return;
    // Idle: nothing of ours waits on it, so it must not hold the process open.
    session.unref();
    if (entry.idleTimeout === 0) {
      this.#close(entry);
      return;
    }
    entry.idleTimer = entry.clock.setTimeout(() => {
      entry.idleTimer = undefined;
      if (entry.streams === 0) this.#close(entry);
    }, entry.idleTimeout);
  }

  #close(entry: Entry): void {
    this.#forget(entry);
    // GOAWAY, then the socket closes: streams of others (none when idle) would be let finish.
    entry.session?.close();
  }

  #forget(entry: Entry): void {
    if (this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key);
    if (entry.idleTimer !== undefined) entry.clock.clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
  }

  #open(key: string, url: URL, settings: SessionSettings): Entry {
    const entry: Entry = {
      key,
      ready: undefined as unknown as Entry['ready'],
      session: undefined,
      streams: 0,
      idleTimer: undefined,
      clock: settings.clock,
      idleTimeout: settings.idleTimeout,
      spare: undefined,
      abortDial: undefined,
    };
    (entry as { ready: Entry['ready'] }).ready = this.#dial(entry, url, settings.tls);
    const settled = (): void => {
      entry.abortDial = undefined;
    };
    // Nobody may be waiting any more when it fails (they timed out): never an unhandled rejection.
    entry.ready.then(settled, () => {
      settled();
      this.#forget(entry);
    });
    return entry;
  }

  async #dial(entry: Entry, url: URL, tls: TlsConnectionOptions | undefined): Promise<Acquired & { ok: false } | { ok: true; session: ClientHttp2Session }> {
    const secure = url.protocol === 'wss:';
    // WHATWG URL keeps IPv6 literals in brackets; sockets want them bare.
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = url.port === '' ? 443 : Number(url.port);
    const origin = `${secure ? 'https' : 'http'}://${url.host}`;
    let session: ClientHttp2Session;
    /** TCP connected (a failure after it, on h2c, says the server speaks no HTTP/2). */
    let connected = secure;
    if (secure) {
      const dialing = tlsConnectH2(host, port, tls);
      entry.abortDial = () => dialing.socket.destroy();
      const socket = await dialing.ready;
      if (socket.alpnProtocol !== 'h2') {
        this.#forget(entry);
        entry.spare = socket;
        return { ok: false, reason: 'alpn', socket: undefined };
      }
      session = http2Connect(origin, { createConnection: () => socket });
    } else {
      session = http2Connect(origin, {
        createConnection: () => {
          const socket = netConnect({ host, port });
          // Frames are written whole by the transports; Nagle would only delay them.
          socket.setNoDelay(true);
          socket.once('connect', () => {
            connected = true;
          });
          return socket;
        },
      });
    }
    entry.session = session;
    entry.abortDial = () => session.destroy();
    session.on('error', () => this.#forget(entry));
    session.once('close', () => this.#forget(entry));
    session.once('goaway', () => this.#forget(entry));
    return new Promise((resolve, reject) => {
      const onSettings = (): void => {
        session.off('close', onGone);
        if (session.remoteSettings.enableConnectProtocol === true) {
          resolve({ ok: true, session });
          return;
        }
        this.#forget(entry);
        session.close();
        resolve({ ok: false, reason: 'no-connect-protocol', socket: undefined });
      };
      const onGone = (): void => {
        session.off('remoteSettings', onSettings);
        this.#forget(entry);
        // TCP connected, then the peer closed or sent what is not HTTP/2: no h2c there.
        if (connected && !secure) resolve({ ok: false, reason: 'no-h2c', socket: undefined });
        else reject(sessionError ?? new Error(`The HTTP/2 session to ${origin} closed before the server's SETTINGS`));
      };
      let sessionError: Error | undefined;
      session.once('error', (err: Error) => {
        sessionError = err;
      });
      session.once('remoteSettings', onSettings);
      session.once('close', onGone);
    });
  }
}

/** A TLS connection offering `h2` then `http/1.1` by ALPN (RFC 7301), and when it is set up. */
function tlsConnectH2(host: string, port: number, tls: TlsConnectionOptions | undefined): { socket: TLSSocket; ready: Promise<TLSSocket> } {
  const socket = tlsConnect({
    servername: isIP(host) === 0 ? host : undefined,
    ...tls,
    host,
    port,
    ALPNProtocols: ['h2', 'http/1.1'],
  });
  socket.setNoDelay(true);
  const ready = new Promise<TLSSocket>((resolve, reject) => {
    const onClose = (): void => reject(new Error(`The connection to ${host}:${port} closed before TLS was set up`));
    socket.once('secureConnect', () => {
      socket.off('error', reject);
      socket.off('close', onClose);
      resolve(socket);
    });
    socket.once('error', reject);
    socket.once('close', onClose);
  });
  return { socket, ready };
}

/** @internal The pool of `connect(url, { http2 })`. */
export const sharedHttp2Pool = new Http2SessionPool();
