import { maxReadAheadEntries } from './read-ahead';
import { systemClock, type Clock } from './clock';
import type { ConnectionOptions } from './connection-init';

/** Defaults of every `ConnectionOptions` field; README's limits table is written from these. */
export const DEFAULT_OPTIONS = {
  /** Largest frame payload accepted, from its header (close 1009): 64 MiB. */
  maxFrameSize: 64 * 1024 * 1024,
  /** Largest message accepted, counted after decompression (close 1009): 64 MiB. */
  maxMessageSize: 64 * 1024 * 1024,
  /** Most frames in one message (close 1009): 16 384. */
  // Measured (bench/fragments.mjs, README "Limits and defaults"): with maxMessageSize a message
  // reaches the size limit only with frames of 4 KiB on average; ws's server default too.
  maxFragments: 16_384,
  /** Received bytes held unread before the transport is paused: 1 MiB. */
  receiveHighWaterMark: 1024 * 1024,
  /** Bytes queued for sending before `send()` waits for drain: 1 MiB. */
  sendHighWaterMark: 1024 * 1024,
  /** Milliseconds to wait for the peer's close frame, then for the transport to end: 5 000. */
  closeTimeout: 5000,
  /** Milliseconds of silence before a ping is sent; 0: no automatic pings. */
  autoPingInterval: 0,
  /** Milliseconds to wait for anything after an automatic ping before dropping the connection; 0: the interval. */
  autoPingTimeout: 0,
  /** Answer pings automatically. */
  autoPong: true,
  /** RSV bits accepted without an extension owning them (3-bit mask): none. */
  allowReservedBits: 0,
  /** Reserved opcodes accepted without an extension defining them: none. */
  allowReservedOpcodes: [] as readonly number[],
} as const;

export type ResolvedOptions = {
  -readonly [K in keyof typeof DEFAULT_OPTIONS]: K extends 'allowReservedOpcodes'
    ? readonly number[]
    : K extends 'autoPong' ? boolean : number;
} & {
  maskKeySource: (() => Uint8Array) | undefined;
  clock: Clock;
  /** Derived: most entries read ahead of the consumer (`maxReadAheadEntries` of the receive mark). */
  readAheadEntries: number;
};

/** A size option: a number ≥ `min`, floored; `Infinity` kept only with `keepInfinity`. Misuse throws a RangeError. */
export function checkSize(name: string, value: number, min: number, keepInfinity = false): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < min) {
    throw new RangeError(`Option ${name} must be a number ≥ ${min}, got ${String(value)}`);
  }
  // Infinity is a convenient way to say "no limit"; elsewhere the codec needs a safe integer.
  if (keepInfinity && value === Infinity) return Infinity;
  return Math.min(Math.floor(value), Number.MAX_SAFE_INTEGER);
}

/** Fills in defaults and refuses nonsense at once (misuse throws, per STYLE.md). */
export function resolveOptions(options: ConnectionOptions = {}): ResolvedOptions {
  const o = { ...DEFAULT_OPTIONS, ...stripUndefined(options) };
  const interval = checkSize('autoPingInterval', o.autoPingInterval, 0);
  const mark = checkSize('receiveHighWaterMark', o.receiveHighWaterMark, 1);
  const rsv = o.allowReservedBits;
  if (!Number.isInteger(rsv) || rsv < 0 || rsv > 0b111) {
    throw new RangeError(`Option allowReservedBits must be a 3-bit mask (0–7), got ${String(rsv)}`);
  }
  for (const op of o.allowReservedOpcodes) {
    if (!((op >= 0x3 && op <= 0x7) || (op >= 0xb && op <= 0xf))) {
      throw new RangeError(`Option allowReservedOpcodes may only name reserved opcodes (0x3–0x7, 0xB–0xF), got ${op}`);
    }
  }
  return {
    // Kept as Infinity: the explicit opt-in to frames declared longer than 2^53 − 1 (up to
    // 2^63 − 1, as RFC 6455 §5.2 allows), which both limits must let through.
    maxFrameSize: checkSize('maxFrameSize', o.maxFrameSize, 0, true),
    maxMessageSize: checkSize('maxMessageSize', o.maxMessageSize, 0, true),
    maxFragments: checkSize('maxFragments', o.maxFragments, 1),
    receiveHighWaterMark: mark,
    sendHighWaterMark: checkSize('sendHighWaterMark', o.sendHighWaterMark, 1),
    closeTimeout: checkSize('closeTimeout', o.closeTimeout, 0),
    autoPingInterval: interval,
    autoPingTimeout: o.autoPingTimeout > 0 ? checkSize('autoPingTimeout', o.autoPingTimeout, 1) : interval,
    autoPong: o.autoPong !== false,
    allowReservedBits: rsv,
    allowReservedOpcodes: [...o.allowReservedOpcodes],
    maskKeySource: options.maskKeySource,
    clock: options.clock ?? systemClock,
    readAheadEntries: maxReadAheadEntries(mark),
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** Options resolved for connections, by the options object they came from. */
const shared = new WeakMap<ConnectionOptions, ResolvedOptions>();

/**
 * `resolveOptions(options)`, as the very object returned before for the same `options` while
 * it resolves to the same values: a server's thousands of connections share one resolved
 * copy of the one options object they are made with, instead of one each. Resolving again
 * each time keeps a caller's later change of `options` taking effect as it did.
 */
export function resolveSharedOptions(options: ConnectionOptions | undefined): ResolvedOptions {
  const resolved = resolveOptions(options);
  if (options === undefined) return resolved;
  const previous = shared.get(options);
  if (previous !== undefined && sameOptions(previous, resolved)) return previous;
  shared.set(options, resolved);
  return resolved;
}

function sameOptions(a: ResolvedOptions, b: ResolvedOptions): boolean {
  for (const key of Object.keys(a) as (keyof ResolvedOptions)[]) {
    if (key === 'allowReservedOpcodes') continue;
    if (!Object.is(a[key], b[key])) return false;
  }
  const x = a.allowReservedOpcodes;
  const y = b.allowReservedOpcodes;
  return x.length === y.length && x.every((op, i) => op === y[i]);
}
