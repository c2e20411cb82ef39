// The ws 8 client under test (client role), maxPayload 64 MiB as ours.
import WebSocket from 'ws';
import { counters, lifecycle, lifetime, ready, tally, value } from './harness.mjs';

lifecycle();
const t0 = performance.now();
const ws = new WebSocket(value('--url'), { maxPayload: 64 * 1024 * 1024 });
let firstError;
ws.on('error', (err) => { firstError ??= err.code ?? 'error'; });
ws.on('upgrade', (res) => res.socket.on('error', (err) => { firstError ??= `socket ${err.code ?? err.message}`; }));
ws.on('close', (code) => {
  counters.connections--;
  tally(firstError ? `error ${firstError}/${code}` : `close/${code}`);
  lifetime(counters.lifetimesMs, performance.now() - t0);
});
ws.on('open', () => {
  counters.connections++;
  counters.opened++;
  ready('ready');
});
