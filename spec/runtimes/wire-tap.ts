// A loopback TCP relay that reads the client's frames as they pass, so an echo spec can check
// what went over the wire (RSV1 on compressed messages, how many payload bytes) and not only
// what came out. node:net only: it runs unchanged in Node, Deno and Bun.
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { FrameParser } from '../../lib/codec/frame-parser';
import type { FrameHeader } from '../../lib/codec/frame-header';
import { findHeadEnd, MAX_HEAD } from './http-head';

/** The relay: its port, and the headers of the data frames the client sent through it. */
export interface WireTap {
  readonly port: number;
  /** Data frames client → server, in wire order (control frames left out). */
  readonly clientDataFrames: FrameHeader[];
  /** Stops listening and drops any relayed connection still open. */
  close(): Promise<void>;
}

/** RSV1 as FrameHeader.rsv has it: permessage-deflate's bit (RFC 7692 §6), let through to be checked. */
const RSV1 = 0b100;

/** Relays 127.0.0.1:<port> to 127.0.0.1:`targetPort`, parsing what the client sends after its HTTP head. */
export async function startWireTap(targetPort: number): Promise<WireTap> {
  const clientDataFrames: FrameHeader[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => { client.destroy(); upstream.destroy(); });
    }
    const parser = new FrameParser({ role: 'server', maxFrameSize: Infinity, allowedRsv: RSV1 });
    let head: Uint8Array | undefined = new Uint8Array(0);
    client.on('data', (chunk: Uint8Array) => {
      upstream.write(chunk);
      let frames = chunk;
      if (head !== undefined) {
        const joined = new Uint8Array(head.length + chunk.length);
        joined.set(head);
        joined.set(chunk, head.length);
        const end = findHeadEnd(joined, head.length);
        if (end < 0) {
          if (joined.length > MAX_HEAD) client.destroy(new Error(`No end of the HTTP head in ${joined.length} bytes`));
          head = joined;
          return;
        }
        head = undefined;
        frames = joined.subarray(end + 4);
      }
      parser.push(frames.slice());
      for (let ev = parser.next(); ev; ev = parser.next()) {
        if (ev.type === 'frame-start') clientDataFrames.push(ev.header);
        if (ev.type === 'error') client.destroy(new Error(`The client sent a bad frame: ${ev.violation.message}`));
      }
    });
    upstream.on('data', (chunk: Uint8Array) => client.write(chunk));
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    clientDataFrames,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
