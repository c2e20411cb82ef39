// RFC 7692 §7.1: the permessage-deflate extension parameters, their validation and the
// negotiation of one offer/response pair. Pure functions: no compression happens here.
import type { ExtensionOffer } from '../../protocol/extension';

export const EXTENSION_NAME = 'permessage-deflate';

/** Options of `PerMessageDeflate`, for either role. */
export interface PerMessageDeflateOptions {
  /**
   * Server: always answer `server_no_context_takeover` (this server resets its compressor after
   * every message, so it keeps no window between messages). Client: request it, and refuse a
   * response without it. Default false.
   */
  serverNoContextTakeover?: boolean;
  /**
   * Server: answer `client_no_context_takeover` (the client must reset its compressor after every
   * message: the server can drop its decompressor between messages). Client: declare it in
   * the offer. Default false.
   */
  clientNoContextTakeover?: boolean;
  /**
   * Largest LZ77 window of the server's compressor, 8–15. Server: caps its own window (and is
   * answered when the client asked for a larger one). Client: requests it. Default 15 (none).
   */
  serverMaxWindowBits?: number;
  /**
   * Largest LZ77 window of the client's compressor, 8–15. Server: asks the client for it, when
   * the client offered `client_max_window_bits`. Client: offers it (`true`: offer the parameter
   * without a value, saying any value the server picks is fine). Default: the client offers
   * `client_max_window_bits` without a value, the server does not restrict it.
   */
  clientMaxWindowBits?: number | true;
  /** zlib compression level, 0–9 (default 6, zlib's default). */
  level?: number;
  /** zlib memory level, 1–9 (default 8, zlib's default). */
  memLevel?: number;
  /**
   * Messages whose size is known in advance and below this many bytes are sent uncompressed
   * (compression costs more than it saves on tiny messages). Default 1024. Messages of
   * unknown size (streams, frame-by-frame writers) are always compressed.
   */
  threshold?: number;
}

/** What one side of a connection agreed to, from that side's point of view. */
export interface DeflateAgreement {
  /** Our compressor resets after each message. */
  readonly localNoContextTakeover: boolean;
  /** The peer's compressor resets after each message: our decompressor can too. */
  readonly remoteNoContextTakeover: boolean;
  /** Window bits of our compressor. */
  readonly localWindowBits: number;
  /** Window bits of the peer's compressor (our decompressor needs at least this window). */
  readonly remoteWindowBits: number;
}

/** The four parameters of RFC 7692 §7.1, validated. `undefined` = absent; `true` = present without a value. */
export interface DeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  clientMaxWindowBits: number | true | undefined;
}

const PARAM_NAMES = new Set(['server_no_context_takeover', 'client_no_context_takeover', 'server_max_window_bits', 'client_max_window_bits']);

/** RFC 7692 §7.1.2: window bits run from 8 to 15. */
export const MIN_WINDOW_BITS = 8;

/**
 * Validates one offer or response entry (RFC 7692 §7: "A server MUST decline an extension
 * negotiation offer for this extension if ... the negotiation offer contains an extension
 * parameter not defined for use in an offer / has an invalid value / has multiple extension
 * parameters with the same name"; a client MUST _Fail the WebSocket Connection_ on the same
 * in a response). Returns the parameters or a sentence saying what is wrong.
 */
export function parseParams(entry: ExtensionOffer): DeflateParams | string {
  const seen = new Set<string>();
  const p: DeflateParams = {
    serverNoContextTakeover: false, clientNoContextTakeover: false,
    serverMaxWindowBits: undefined, clientMaxWindowBits: undefined,
  };
  for (const [name, value] of entry.params) {
    if (!PARAM_NAMES.has(name)) return `Unknown permessage-deflate parameter ${name}`;
    if (seen.has(name)) return `Duplicate permessage-deflate parameter ${name}`;
    seen.add(name);
    switch (name) {
      case 'server_no_context_takeover':
      case 'client_no_context_takeover':
        if (value !== true) return `Parameter ${name} takes no value, got "${value}"`;
        if (name === 'server_no_context_takeover') p.serverNoContextTakeover = true;
        else p.clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits': {
        // §7.1.2.1: the value is required, a decimal integer from 8 to 15 with no leading zeros.
        const bits = value === true ? undefined : parseWindowBits(value);
        if (bits === undefined) return `Parameter server_max_window_bits needs a value from 8 to 15, got ${value === true ? 'none' : `"${value}"`}`;
        p.serverMaxWindowBits = bits;
        break;
      }
      case 'client_max_window_bits': {
        if (value === true) {
          p.clientMaxWindowBits = true;
          break;
        }
        const bits = parseWindowBits(value);
        if (bits === undefined) return `Parameter client_max_window_bits must be from 8 to 15, got "${value}"`;
        p.clientMaxWindowBits = bits;
        break;
      }
    }
  }
  return p;
}

function parseWindowBits(value: string): number | undefined {
  return /^(?:[89]|1[0-5])$/.test(value) ? Number(value) : undefined;
}

/** Throws a `RangeError` naming the option if an option is out of range. */
export function checkOptions(o: PerMessageDeflateOptions): void {
  const bits = (name: string, v: number | true | undefined, allowTrue: boolean): void => {
    if (v === undefined || (allowTrue && v === true)) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < MIN_WINDOW_BITS || v > 15) {
      throw new RangeError(`${name} must be an integer from ${MIN_WINDOW_BITS} to 15${allowTrue ? ' or true' : ''}, got ${String(v)}`);
    }
  };
  bits('serverMaxWindowBits', o.serverMaxWindowBits, false);
  bits('clientMaxWindowBits', o.clientMaxWindowBits, true);
  const int = (name: string, v: number | undefined, lo: number, hi: number): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < lo || v > hi)) throw new RangeError(`${name} must be an integer from ${lo} to ${hi}, got ${v}`);
  };
  int('level', o.level, 0, 9);
  int('memLevel', o.memLevel, 1, 9);
  int('threshold', o.threshold, 0, Number.MAX_SAFE_INTEGER);
}

/** Client: the single offer it sends. */
export function clientOffer(o: PerMessageDeflateOptions): ExtensionOffer {
  const params: Array<[string, string | true]> = [];
  if (o.serverNoContextTakeover) params.push(['server_no_context_takeover', true]);
  if (o.clientNoContextTakeover) params.push(['client_no_context_takeover', true]);
  if (o.serverMaxWindowBits !== undefined) params.push(['server_max_window_bits', String(o.serverMaxWindowBits)]);
  const cmwb = o.clientMaxWindowBits ?? true;
  params.push(['client_max_window_bits', cmwb === true ? true : String(cmwb)]);
  return { name: EXTENSION_NAME, params };
}

/**
 * Server: answers one validated offer under the server's options, or says why it declines it.
 * RFC 7692 §7.1.1–§7.1.2 decide what the response may and must contain.
 */
export function answerOffer(offer: DeflateParams, o: PerMessageDeflateOptions): { response: ExtensionOffer; agreement: DeflateAgreement } | string {
  // The server's compressor window: the client's request (§7.1.2.1: "the same or smaller
  // value") capped by our option.
  let serverBits: number | undefined = o.serverMaxWindowBits;
  if (offer.serverMaxWindowBits !== undefined) {
    serverBits = Math.min(offer.serverMaxWindowBits, serverBits ?? 15);
  }
  // §7.1.2.2: the server may only limit the client's window if the client offered the parameter.
  let clientBits: number | undefined;
  if (offer.clientMaxWindowBits !== undefined) {
    const asked = typeof o.clientMaxWindowBits === 'number' ? o.clientMaxWindowBits : undefined;
    const offered = offer.clientMaxWindowBits === true ? undefined : offer.clientMaxWindowBits;
    clientBits = asked === undefined ? offered : Math.min(asked, offered ?? 15);
  }
  const serverNoCtx = offer.serverNoContextTakeover || o.serverNoContextTakeover === true;
  const clientNoCtx = o.clientNoContextTakeover === true || offer.clientNoContextTakeover;
  const params: Array<[string, string | true]> = [];
  if (serverNoCtx) params.push(['server_no_context_takeover', true]);
  if (clientNoCtx) params.push(['client_no_context_takeover', true]);
  if (serverBits !== undefined) params.push(['server_max_window_bits', String(serverBits)]);
  if (clientBits !== undefined) params.push(['client_max_window_bits', String(clientBits)]);
  return {
    response: { name: EXTENSION_NAME, params },
    agreement: {
      localNoContextTakeover: serverNoCtx,
      remoteNoContextTakeover: clientNoCtx,
      localWindowBits: serverBits ?? 15,
      remoteWindowBits: clientBits ?? 15,
    },
  };
}

/**
 * Client: checks the server's response against what was offered (§7.1: a response may not
 * widen what the offer allowed) and returns the agreement, or says why it is unacceptable.
 */
export function acceptResponse(response: DeflateParams, o: PerMessageDeflateOptions): DeflateAgreement | string {
  const offered = clientOffer(o);
  const offeredClientBits = offered.params.find(([n]) => n === 'client_max_window_bits')?.[1];
  if (o.serverNoContextTakeover && !response.serverNoContextTakeover) {
    return 'Response lacks server_no_context_takeover, which was requested';
  }
  if (response.serverMaxWindowBits !== undefined && o.serverMaxWindowBits !== undefined &&
      response.serverMaxWindowBits > o.serverMaxWindowBits) {
    return `Response server_max_window_bits=${response.serverMaxWindowBits} exceeds the ${o.serverMaxWindowBits} requested`;
  }
  if (o.serverMaxWindowBits !== undefined && response.serverMaxWindowBits === undefined) {
    return 'Response lacks server_max_window_bits, which was requested';
  }
  let clientBits = typeof offeredClientBits === 'string' ? Number(offeredClientBits) : 15;
  if (response.clientMaxWindowBits !== undefined) {
    // §7.1.2.2: "the response MUST NOT include client_max_window_bits" unless offered; with a value only.
    if (offeredClientBits === undefined) return 'Response has client_max_window_bits, which was not offered';
    if (response.clientMaxWindowBits === true) return 'Response client_max_window_bits needs a value';
    if (response.clientMaxWindowBits > clientBits) {
      return `Response client_max_window_bits=${response.clientMaxWindowBits} exceeds the ${clientBits} offered`;
    }
    clientBits = response.clientMaxWindowBits;
  }
  return {
    // Resetting is always allowed, so a client that declared it resets whatever the answer.
    localNoContextTakeover: response.clientNoContextTakeover || o.clientNoContextTakeover === true,
    remoteNoContextTakeover: response.serverNoContextTakeover,
    localWindowBits: clientBits,
    remoteWindowBits: response.serverMaxWindowBits ?? 15,
  };
}
