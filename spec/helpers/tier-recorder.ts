import type { WebSocketProtocol } from '../../lib/tiers/websocket-protocol';

const dec = new TextDecoder();

/**
 * A subclass of `base` that overrides the named callbacks (so the tier they belong to is the one
 * chosen), records each call with its arguments (bytes as text), then runs the base's own.
 */
export function recorder<B extends abstract new () => WebSocketProtocol>(base: B, overrideNames: string[]): { Recorder: B; log: unknown[][] } {
  const log: unknown[][] = [];
  // @ts-expect-error -- a mixin over an abstract-typed constructor; every base here is concrete
  class Recorder extends base {}
  const proto = Recorder.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const name of overrideNames) {
    const parent = (base.prototype as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!;
    proto[name] = function (this: WebSocketProtocol, ...args: unknown[]) {
      log.push([name, ...args.map((a) => (a instanceof Uint8Array ? dec.decode(a) : a))]);
      return parent.apply(this, args);
    };
  }
  return { Recorder: Recorder as unknown as B, log };
}
