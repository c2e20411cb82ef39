// Loads our Node entry from dist/ and finds what the servers need, or reports it unavailable.
import { unavailable } from './common.mjs';

/** The `websocket-streams/node` module as built in dist/, or exits with "unavailable". */
export async function loadOurs(...names) {
  let mod;
  try {
    mod = await import('../../dist/node.mjs');
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
