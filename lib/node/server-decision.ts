// What a server decides about a valid opening request, and how it starts the connection,
// whichever HTTP carried the request (an HTTP/1.1 upgrade or an HTTP/2 extended CONNECT):
// the same hook, subprotocol choice and extension negotiation for both.
import { negotiateExtensions, type NegotiatedExtensions, type ResponseHeaders, type WebSocketOffer } from '../handshake/server-handshake';
import type { ByteTransport } from '../streams/byte-transport';
import { Connection } from '../streams/connection';
import type { HandshakeInfo } from '../streams/connection-init';
import { extensionFactories } from './deflate-option';
import { nodeRuntime } from './runtime';
import type { ServerOptions, UpgradeDecision, UpgradeRequestInfo } from './upgrade';

/** @internal The server's answer to a valid request: accept with what was agreed, or refuse. */
export type Verdict =
  | {
      readonly accept: true;
      readonly protocol: string;
      readonly negotiation: NegotiatedExtensions;
      readonly headers: ResponseHeaders | undefined;
      readonly context: unknown;
    }
  | {
      readonly accept: false;
      readonly status: number;
      readonly headers: ResponseHeaders | undefined;
      readonly body: string | Uint8Array;
    };

const noop = (): void => undefined;

/** @internal The default `handshakeTimeout` (ms). */
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

/**
 * @internal Runs `onRequest`, then chooses the subprotocol and negotiates the extensions.
 * `undefined` when the request went away while the hook ran. A hook that throws is reported
 * and refused with 500; a protocols callback that picks a value not offered throws (our bug).
 */
export async function decide(
  info: UpgradeRequestInfo,
  offer: WebSocketOffer,
  options: ServerOptions,
  onError: (error: unknown) => void,
  gone: () => boolean,
): Promise<Verdict | undefined> {
  let headers: ResponseHeaders | undefined;
  let context: unknown;
  if (options.onRequest) {
    let decision: UpgradeDecision;
    try {
      decision = await options.onRequest(info);
    } catch (err) {
      onError(err);
      return { accept: false, status: 500, headers: undefined, body: 'Internal Server Error' };
    }
    if (gone()) return undefined;
    if (decision === false) return { accept: false, status: 403, headers: undefined, body: 'Forbidden' };
    if (typeof decision === 'object' && decision !== null) {
      if (decision.status !== undefined) return { accept: false, status: decision.status, headers: decision.headers, body: decision.body ?? '' };
      headers = decision.headers;
      context = decision.context;
    }
  }
  const protocol = selectProtocol(options.protocols, info);
  const negotiation = negotiateExtensions(offer.extensions, extensionFactories(options));
  return { accept: true, protocol, negotiation, headers: mergeHeaders(options.headers, headers), context };
}

/**
 * @internal Makes the server `Connection` on `transport` and hands it to `onConnection`; an
 * async handler's rejection, like a throw, is this connection's failure (reported, then closed
 * with 1011), never an unhandled rejection that takes the process down.
 */
export function startServerConnection(
  transport: ByteTransport,
  handshake: HandshakeInfo | (() => HandshakeInfo),
  verdict: Verdict & { accept: true },
  options: ServerOptions,
  head: Uint8Array | undefined,
  onConnection: (conn: Connection) => unknown,
  onError: (error: unknown) => void,
): Connection {
  const conn = new Connection(transport, {
    role: 'server',
    handshake,
    activeExtensions: verdict.negotiation.extensions,
    options,
    head,
    runtime: nodeRuntime,
  });
  const failed = (err: unknown): void => {
    onError(err);
    void conn.close(1011, 'Internal error').catch(noop);
  };
  try {
    const result = onConnection(conn) as PromiseLike<unknown> | undefined;
    if (result !== undefined && result !== null && typeof result.then === 'function') result.then(undefined, failed);
  } catch (err) {
    failed(err);
  }
  return conn;
}

function selectProtocol(choice: ServerOptions['protocols'], info: UpgradeRequestInfo): string {
  if (choice === undefined || info.protocols.length === 0) return '';
  let chosen: string | undefined;
  if (typeof choice === 'function') {
    chosen = choice(info.protocols, info);
  } else {
    chosen = choice.find((p) => info.protocols.includes(p));
  }
  if (chosen === undefined || chosen === '') return '';
  // RFC 6455 §4.2.2 item 5.4: the selected value "MUST be derived from the values the
  // client sent"; anything else is our bug, and the client would fail the handshake.
  if (!info.protocols.includes(chosen)) {
    throw new TypeError(`The protocols callback chose ${JSON.stringify(chosen)}, which the client did not offer (${info.protocols.join(', ')})`);
  }
  return chosen;
}

function mergeHeaders(a: ResponseHeaders | undefined, b: ResponseHeaders | undefined): ResponseHeaders | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return { ...a, ...b };
}
