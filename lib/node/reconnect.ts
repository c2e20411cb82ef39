// A connection that comes back: python-websockets' `async for ws in connect(...)`, with
// exponential backoff and jitter, bounded by attempts, elapsed time and an AbortSignal.
import { parseWebSocketUrl } from '../handshake/client-handshake';
import { HandshakeError } from '../handshake/errors';
import { systemClock, type Clock } from '../streams/clock';
import type { Connection } from '../streams/connection';
import { WebSocketError, type CloseInfo } from '../streams/errors';
import { connect, type ClientOptions } from './client';
import { parseUnixUrl } from './unix-socket';

/** Options of `reconnect`: those of `connect`, and how to back off between attempts. */
export interface ReconnectOptions extends ClientOptions {
  /** Delay before the first retry of a streak, in ms (before jitter). Default 1000. */
  initialDelay?: number;
  /** Each retry of a streak waits this many times longer than the one before. Default 2. */
  factor?: number;
  /** Longest delay, in ms (before jitter). Default 30 000. */
  maxDelay?: number;
  /** Most attempts in a streak (attempts since a connection last stayed up), then give up. Default `Infinity`. */
  maxAttempts?: number;
  /** Give up rather than wait past this many ms since the streak's first failure. Default `Infinity`. */
  maxElapsed?: number;
  /** A connection open at least this long ends the streak: backoff starts over. Default 10 000 ms. */
  resetAfter?: number;
  /**
   * A number in [0, 1) for each delay's jitter: the wait is `delay × (1 + random()) / 2`
   * ("equal jitter": never under half the delay, so clients that lost one server together
   * spread out). Default `Math.random`; specs pass a constant.
   */
  random?: () => number;
  /** Called before each wait: which attempt failed, why, and how long until the next one. */
  onRetry?: (retry: RetryInfo) => void;
  /**
   * Aborting ends the iteration with a `HandshakeError` of kind `ABORTED`: a handshake or a
   * wait in progress stops, an open connection is closed with 1001 (going away).
   */
  signal?: AbortSignal;
}

/** What `onRetry` is told about a failed attempt. */
export interface RetryInfo {
  /** The attempt that failed, counted from 1 over the whole iteration. */
  readonly attempt: number;
  /** Ms until the next attempt, jitter included. */
  readonly delay: number;
  /** The handshake's error, when the attempt did not open. */
  readonly error?: HandshakeError;
  /** How the connection closed, when it opened and then closed in a way worth retrying. */
  readonly close?: CloseInfo;
}

/** The connections of `reconnect`, one after another, and how many attempts they took. */
export interface ReconnectingConnections extends AsyncIterableIterator<Connection> {
  /** Connection attempts made so far (handshakes started), counted from 1. */
  readonly attempts: number;
}

/**
 * Close codes after which the server may well take us back (RFC 6455 §7.4.1 and the IANA
 * registry): 1001 going away (a server restarting), 1006 lost without a close frame, 1011
 * internal error, 1012 service restart, 1013 try again later, 1014 bad gateway.
 */
const RETRYABLE_CLOSE_CODES: ReadonlySet<number> = new Set([1001, 1006, 1011, 1012, 1013, 1014]);

/** Statuses python-websockets retries: the server or a gateway in front of it is failing for now. */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([500, 502, 503, 504]);

/** Socket errors that a later attempt may not meet (the server is starting, a route flaps). */
const RETRYABLE_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH',
  'ENETDOWN', 'EAI_AGAIN', 'ENOENT',
]);

/** Whether a failed handshake is worth another attempt (a refusal with 4xx, a bad 101 or a TLS error is not). */
function isRetryableHandshake(err: HandshakeError): boolean {
  switch (err.kind) {
    case 'TIMEOUT':
      return true;
    case 'UNEXPECTED_STATUS':
    case 'PROXY_REFUSED':
      return err.status !== undefined && RETRYABLE_STATUSES.has(err.status);
    case 'CONNECTION_FAILED': {
      const code = (err.cause as NodeJS.ErrnoException | undefined)?.code;
      // No code: the server closed before answering ("socket hang up").
      return code === undefined || RETRYABLE_NETWORK_CODES.has(code);
    }
    default:
      return false;
  }
}

const isRetryableClose = (info: CloseInfo): boolean => RETRYABLE_CLOSE_CODES.has(info.code);

const nonNegative = (name: string, value: number): number => {
  if (!(value >= 0)) throw new RangeError(`${name} must be ≥ 0, got ${value}`);
  return value;
};

const aborted = (signal: AbortSignal): HandshakeError =>
  new HandshakeError('ABORTED', 'Reconnecting was aborted', { cause: signal.reason });

/**
 * Connects, and connects again whenever the connection is lost in a way worth retrying, as
 * python-websockets' `async for websocket in connect(uri)`. Each connection is yielded to the
 * loop body; the next attempt starts once the body is done with it and it is closed (a body
 * that returns with the connection open has it closed with 1000).
 *
 * - **Retried**: a close with 1001, 1006, 1011, 1012, 1013 or 1014; a handshake that timed
 *   out, met a network error (`ECONNREFUSED`, `ECONNRESET`, ...) or a 500, 502, 503 or 504.
 * - **Ends the loop**: any other close (1000, 1002, 1008, 4xxx, ...): the connection's
 *   `closed` says how. `break` closes the open connection with 1000.
 * - **Throws**: a handshake that cannot succeed by trying again (a 4xx, a bad 101, a TLS
 *   error: its `HandshakeError`); giving up after `maxAttempts` or `maxElapsed` (the last
 *   `HandshakeError`, or a `WebSocketError` of kind `CONNECTION_LOST` after a lost connection);
 *   the `signal` (`HandshakeError` of kind `ABORTED`).
 *
 * A malformed URL throws a `SyntaxError` and bad backoff options a `RangeError`, at once.
 * Waits grow from `initialDelay` by `factor` up to `maxDelay`, with jitter, on `clock`. A lost
 * connection counts as a failed attempt unless it stayed open `resetAfter` ms: then the count
 * and the delays start over, so a server that accepts and drops at once is still backed off.
 *
 * @example
 * ```ts
 * for await (const conn of reconnect('ws://127.0.0.1:8080/feed', { maxDelay: 10_000 })) {
 *   for await (const msg of conn) console.log(await msg.text());
 * }
 * ```
 */
export function reconnect(url: string | URL, options: ReconnectOptions = {}): ReconnectingConnections {
  if (parseUnixUrl(url) === undefined) parseWebSocketUrl(url); // a malformed URL throws now, not at the first next()
  const initialDelay = nonNegative('initialDelay', options.initialDelay ?? 1000);
  const factor = options.factor ?? 2;
  if (!(factor >= 1)) throw new RangeError(`factor must be ≥ 1, got ${factor}`);
  const maxDelay = nonNegative('maxDelay', options.maxDelay ?? 30_000);
  const maxAttempts = options.maxAttempts ?? Infinity;
  if (!(maxAttempts >= 1)) throw new RangeError(`maxAttempts must be ≥ 1, got ${maxAttempts}`);
  const maxElapsed = nonNegative('maxElapsed', options.maxElapsed ?? Infinity);
  const resetAfter = nonNegative('resetAfter', options.resetAfter ?? 10_000);
  const random = options.random ?? Math.random;
  const clock = options.clock ?? systemClock;
  const signal = options.signal;
  let attempts = 0;

  async function* run(): AsyncGenerator<Connection, void, undefined> {
    let failures = 0; // failed attempts of the current streak
    let streakStart = 0;
    for (;;) {
      if (signal?.aborted) throw aborted(signal);
      attempts++;
      let conn: Connection | undefined;
      let failure: Failure;
      try {
        conn = await connect(url, options);
      } catch (err) {
        if (!(err instanceof HandshakeError) || !isRetryableHandshake(err)) throw err;
        failure = { error: err };
      }
      if (conn !== undefined) {
        const open = conn;
        const openedAt = clock.now();
        const onAbort = (): void => void closeQuietly(open, 1001, 'Going away');
        signal?.addEventListener('abort', onAbort, { once: true });
        let info: CloseInfo;
        try {
          yield open;
        } finally {
          signal?.removeEventListener('abort', onAbort);
          // Done with it, by the end of the body, a `break` or a throw: it closes before anything else.
          info = await closeQuietly(open, 1000, '');
        }
        if (signal?.aborted) throw aborted(signal);
        if (!isRetryableClose(info)) return;
        if (clock.now() - openedAt >= resetAfter) failures = 0;
        failure = { close: info };
      }
      if (failures === 0) streakStart = clock.now();
      failures++;
      const base = Math.min(maxDelay, initialDelay * factor ** (failures - 1));
      const delay = (base * (1 + random())) / 2;
      if (failures >= maxAttempts || clock.now() + delay - streakStart > maxElapsed) throw giveUp(failure!, failures);
      options.onRetry?.({ attempt: attempts, delay, ...failure! });
      await wait(clock, delay, signal);
    }
  }

  const generator = run() as AsyncGenerator<Connection, void, undefined> & { readonly attempts: number };
  Object.defineProperty(generator, 'attempts', { get: () => attempts, enumerable: true });
  return generator;
}

/** Why an attempt did not last: its handshake failed, or it opened and closed. */
type Failure = { readonly error: HandshakeError; readonly close?: undefined } | { readonly close: CloseInfo; readonly error?: undefined };

/** Closes `conn` unless it is closing already, and resolves with how it ended. */
function closeQuietly(conn: Connection, code: number, reason: string): Promise<CloseInfo> {
  try {
    void conn.close(code, reason);
  } catch {
    // Closing already: that close stands.
  }
  return conn.closed;
}

function giveUp(failure: Failure, failures: number): Error {
  if (failure.error !== undefined) return failure.error;
  const info = failure.close;
  return new WebSocketError(`Gave up reconnecting after ${failures} attempts in a row; the last connection closed with ${info.code}`, {
    kind: 'CONNECTION_LOST',
    closeCode: info.code,
    reason: info.reason,
    cause: info.error,
  });
}

/** Waits `ms` on `clock`; the signal ends the wait with `ABORTED`. */
function wait(clock: Clock, ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(aborted(signal));
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(aborted(signal!));
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
