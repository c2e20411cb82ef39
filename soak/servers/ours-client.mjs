// Our client under test (client role): `connect(--url)` with the defaults; it reads its
// messages (none come in the probes that use it) and reports how the connection ended.
import { loadOurs } from '../../bench/servers/ours-lib.mjs';
import { counters, lifecycle, lifetime, ready, tally, value } from './harness.mjs';

lifecycle();
const { connect } = await loadOurs('connect');
const t0 = performance.now();
const conn = await connect(value('--url'));
counters.connections++;
counters.opened++;
void conn.closed.then((info) => {
  counters.connections--;
  tally(`${info.endedBy}/${info.code}`);
  lifetime(counters.lifetimesMs, performance.now() - t0);
});
(async () => { for await (const msg of conn) await msg.bytes(); })().catch(() => {});
ready('ready');
