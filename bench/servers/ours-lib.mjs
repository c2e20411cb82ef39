// Loads our Node entry from dist/ and finds what the servers need, or reports it unavailable.
// BENCH_DIST=<dir> loads another build instead (a copy of dist/ taken before or after a change,
// so that a shared working tree being rebuilt meanwhile does not change what is measured; the
// runner's @base columns set it to BENCH_BASE_DIST).
import { register } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { unavailable } from './common.mjs';

/**
 * A copy of dist/ outside this checkout (/tmp/dist-base) has no node_modules above it, so its
 * `import 'web-streams-polyfill'` would not resolve: a package the copy cannot find is looked up
 * from this checkout instead. Only the import is affected (nothing runs per message).
 */
function resolvePackagesFromHere() {
  const here = JSON.stringify(import.meta.url);
  const hook = `export async function resolve(specifier, context, next) {
    try { return await next(specifier, context); } catch (err) {
      if (err?.code !== 'ERR_MODULE_NOT_FOUND' || /^(\\.|\\/|[a-z]+:)/i.test(specifier)) throw err;
      return next(specifier, { ...context, parentURL: ${here} });
    }
  }`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
}

/** The `websocket-streams/node` module as built in dist/, or exits with "unavailable". */
export function loadOurs(...names) {
  return loadEntry('node', names);
}

/** An entry of ours as built in dist/ (`node`, `pubsub`), checked for `names`, or exits with "unavailable". */
export async function loadEntry(entry, names) {
  let mod;
  try {
    const dist = process.env.BENCH_DIST;
    if (dist) resolvePackagesFromHere();
    mod = await import(dist ? pathToFileURL(path.resolve(dist, `${entry}.mjs`)).href : `../../dist/${entry}.mjs`);
  } catch (err) {
    unavailable(`dist/${entry}.mjs does not load (${err?.message ?? err})`);
  }
  for (const name of names) {
    if (mod[name] === undefined) unavailable(`not built: dist/${entry}.mjs has no ${name} export`);
  }
  return mod;
}

/** The port a `serve()` result listens on, whatever shape it has. */
export function portOf(server) {
  if (typeof server?.port === 'number') return server.port;
  const a = server?.address?.() ?? server?.server?.address?.() ?? server?.address;
  if (typeof a?.port === 'number') return a.port;
  throw new Error('Cannot find the port of the server serve() returned');
}
