// Loads our Node entry from dist/ and finds what the servers need, or reports it unavailable.
// BENCH_DIST=<dir> loads another build instead (a copy of dist/ taken before or after a change,
// so that a shared working tree being rebuilt meanwhile does not change what is measured).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { unavailable } from './common.mjs';

/** The `websocket-streams/node` module as built in dist/, or exits with "unavailable". */
export async function loadOurs(...names) {
  let mod;
  try {
    const dist = process.env.BENCH_DIST;
    mod = await import(dist ? pathToFileURL(path.resolve(dist, 'node.mjs')).href : '../../dist/node.mjs');
  } catch (err) {
    unavailable(`dist/node.mjs does not load (${err?.message ?? err})`);
  }
  for (const name of names) {
    if (mod[name] === undefined) unavailable(`not built: dist/node.mjs has no ${name} export`);
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
