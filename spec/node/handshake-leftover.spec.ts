// Frames that arrive in the same read as the server's 101 response (a server that sends a
// message or closes right after the handshake). They are the connection's first bytes, and are
// read ahead like any later bytes: a close among them is answered although nobody reads, so the
// closing handshake takes one round trip, not the server's close timeout.
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { connect } from '../../lib/node/client';
import { rawServer, requestHeader } from './node-helpers';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** A 101 for `request` and, in the same write, the frames given (unmasked, server to client). */
function acceptWith(request: string, socket: Socket, frames: number[]): void {
  const accept = createHash('sha1').update(`${requestHeader(request, 'Sec-WebSocket-Key')}${GUID}`).digest('base64');
  const head = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`;
  socket.write(Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(frames)]));
}

/** The first frame a client sent on `socket` after its request, unmasked: opcode and payload. */
function firstFrame(socket: Socket): Promise<{ opcode: number; payload: Buffer }> {
  return new Promise((resolve) => {
    let bytes = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer | string) => {
      bytes = Buffer.concat([bytes, typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk]);
      if (bytes.length < 6) return;
      const n = bytes[1]! & 0x7f; // control frames: at most 125 bytes
      if (bytes.length < 6 + n) return;
      const key = bytes.subarray(2, 6);
      const payload = Buffer.from(bytes.subarray(6, 6 + n).map((b, i) => b ^ key[i & 3]!));
      resolve({ opcode: bytes[0]! & 0x0f, payload });
    });
  });
}

describe('frames that came with the 101 response', () => {
  it('a close among them is answered at once although the client never reads, and closed resolves clean', async () => {
    let reply: Promise<{ opcode: number; payload: Buffer }> | undefined;
    const server = await rawServer((request, socket) => {
      reply = firstFrame(socket);
      acceptWith(request, socket, [0x88, 5, 0x03, 0xe8, 0x62, 0x79, 0x65]); // close 1000 'bye'
    });
    try {
      const conn = await connect(`ws://127.0.0.1:${server.port}/`, { closeTimeout: 60_000 });
      // Nobody reads. The client's close reply reaches the server; the server then ends TCP.
      const answered = await reply!;
      expect(answered.opcode).toBe(0x8);
      expect([...answered.payload]).toEqual([0x03, 0xe8, 0x62, 0x79, 0x65]);
      for (const s of server.sockets) s.end();
      expect(await conn.closed).toMatchObject({ wasClean: true, code: 1000, reason: 'bye', endedBy: 'close-handshake' });
    } finally {
      await server.close();
    }
  });

  it('a ping among them is answered although the client never reads, and a message before it stays readable', async () => {
    let reply: Promise<{ opcode: number; payload: Buffer }> | undefined;
    const server = await rawServer((request, socket) => {
      reply = firstFrame(socket);
      acceptWith(request, socket, [0x81, 2, 0x68, 0x69, 0x89, 2, 0x70, 0x31]); // text 'hi', ping 'p1'
    });
    try {
      const conn = await connect(`ws://127.0.0.1:${server.port}/`);
      const pong = await reply!;
      expect(pong.opcode).toBe(0xa);
      expect(pong.payload.toString()).toBe('p1');
      expect(await (await conn.nextMessage())!.text()).toBe('hi');
      for (const s of server.sockets) s.destroy();
      await conn.closed;
    } finally {
      await server.close();
    }
  });
});
