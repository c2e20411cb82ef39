// Compression bombs at the default limits (permessage-deflate negotiated with the server's
// defaults; maxMessageSize 64 MiB, ws: maxPayload 64 MiB): a message that inflates to 256 MiB,
// sent as one frame, as 1 000 fragments, and as text.
import zlib from 'node:zlib';
import { MiB, Verdict, deflateMessage, frame, mib, plus, rawConnect, sampler, secs, settleAndMeasure, startTarget, within, writeAll, watchClose } from '../lib.mjs';

const serverFile = { ours: 'ours.mjs', ws: 'ws.mjs' };
const INFLATED = 256 * MiB;
let cache;
function bombs() {
  if (!cache) {
    const bin = deflateMessage(Buffer.alloc(INFLATED, 0));
    const text = deflateMessage(Buffer.alloc(INFLATED, 0x61));
    cache = { bin, text };
  }
  return cache;
}

/** The compressed payload as `n` frames: the first with RSV1 and the opcode, then continuations. */
function fragments(opcode, payload, n) {
  const size = Math.ceil(payload.length / n);
  const out = [];
  for (let i = 0; i < n; i++) {
    const piece = payload.subarray(i * size, Math.min(payload.length, (i + 1) * size));
    out.push(frame(i === 0 ? opcode : 0, piece, { fin: i === n - 1, rsv1: i === 0 }));
  }
  return Buffer.concat(out);
}

function bombProbe(kind) {
  return async (server, o) => {
    const v = new Verdict();
    const target = await startTarget(serverFile[server], ['--deflate']);
    try {
      const base = await target.stats(true);
      const s = await sampler(target, 100);
      const { socket, rest, extensions } = await rawConnect(target.port, { deflate: true });
      v.check(/permessage-deflate/.test(extensions), `permessage-deflate was not negotiated (${extensions || 'none'})`);
      const b = bombs();
      const wire = kind === 'one-frame' ? frame(0x2, b.bin, { rsv1: true })
        : kind === 'fragments' ? fragments(0x2, b.bin, 1000)
          : frame(0x1, b.text, { rsv1: true });
      const t0 = performance.now();
      const closed = watchClose(socket, t0, rest);
      await writeAll(socket, wire);
      const how = await within(closed, o.bombVerdictMs, { code: 'none', ms: o.bombVerdictMs });
      const peak = await s.stop();
      const growth = peak.peak - base.rss;
      v.check(how.code === 1009, `no 1009 within ${secs(o.bombVerdictMs)} (got ${how.code})`);
      v.check(growth <= o.bombRssLimit, `peak RSS growth ${mib(growth)} > ${mib(o.bombRssLimit)}`);
      socket.destroy();
      const end = await settleAndMeasure(target, base, v, {});
      return {
        verdict: v,
        cell: `${mib(wire.length)} on the wire → ${how.code === 'none' ? 'no verdict' : `close ${how.code}`} after ${secs(how.ms)}; peak RSS ${plus(growth)}; fresh client ${end.fresh.ok ? 'served' : 'NOT served'} after`,
      };
    } finally {
      await target.stop();
    }
  };
}

const limit = (what) => (o) => `${what} inflating to ${INFLATED / MiB} MiB (default limits, permessage-deflate): close 1009 within ${secs(o.bombVerdictMs)}, peak RSS growth ≤ ${mib(o.bombRssLimit)}, a fresh client served after`;
export default [
  { name: 'bomb-one-frame', limit: limit('one binary frame'), servers: ['ours', 'ws'], deadlineMs: () => 60_000, run: bombProbe('one-frame') },
  { name: 'bomb-fragments', limit: limit('a binary message in 1 000 fragments'), servers: ['ours', 'ws'], deadlineMs: () => 60_000, run: bombProbe('fragments') },
  { name: 'bomb-text', limit: limit('one text frame (valid UTF-8)'), servers: ['ours', 'ws'], deadlineMs: () => 60_000, run: bombProbe('text') },
];
export const defaults = { bombVerdictMs: 10_000, bombRssLimit: 48 * MiB };
void zlib;
