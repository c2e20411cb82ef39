// The `perMessageDeflate` option of the Node adapter: permessage-deflate on node:zlib in one flag.
import { PerMessageDeflate } from '../extensions/permessage-deflate/permessage-deflate';
import type { PerMessageDeflateOptions } from '../extensions/permessage-deflate/params';
import type { ExtensionFactory } from '../protocol/extension';
import { defaultZlibEngine, zlibEngine, type ZlibEngineOptions } from './zlib-engine';

/**
 * `true`: offer (client) or accept (server) permessage-deflate with the defaults; an object:
 * with these parameters; `false`/absent: neither offer nor accept it.
 */
export type PerMessageDeflateSetting = boolean | (PerMessageDeflateOptions & ZlibEngineOptions);

const cache = new WeakMap<object, readonly ExtensionFactory[]>();

/**
 * The extension factories an options object stands for: its `extensions`, with
 * permessage-deflate first when `perMessageDeflate` asks for it. Computed once per options
 * object, so every connection of a server shares one engine and its concurrency bound.
 */
export function extensionFactories(options: {
  readonly extensions?: readonly ExtensionFactory[];
  readonly perMessageDeflate?: PerMessageDeflateSetting;
}): readonly ExtensionFactory[] {
  const setting = options.perMessageDeflate;
  if (setting === undefined || setting === false) return options.extensions ?? [];
  const known = cache.get(options);
  if (known) return known;
  const { concurrency, ...params } = setting === true ? {} : setting;
  const engine = concurrency === undefined ? defaultZlibEngine() : zlibEngine({ concurrency });
  const deflate = new PerMessageDeflate(engine, params);
  const others = (options.extensions ?? []).filter((f) => f.name !== deflate.name);
  const all = [deflate, ...others];
  cache.set(options, all);
  return all;
}
