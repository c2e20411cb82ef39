// Echo on the stream tier: every message flows from readable to writable, frame by frame.
import { serve } from '../../dist/node.mjs';

const server = await serve({ host: '127.0.0.1', port: Number(process.env.PORT ?? 8080) }, (conn) => conn.readable.pipeTo(conn.writable));
console.log(`listening on ${server.url}`);
