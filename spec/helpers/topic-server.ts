import { serve, type WebSocketServerHandle } from '../../lib/node/server';
import type { Connection } from '../../lib/streams/connection';
import { RecordingClient } from './recording-ws-client';

/** A `serve()` server whose connections subscribe to the topic their path names, and the connections it accepted. */
export interface TopicServer {
  readonly server: WebSocketServerHandle;
  /** Server-side connections, in the order they were accepted. */
  readonly conns: Connection[];
  /** Opens one recording ws client per path (`/room` subscribes to `room`, `/` to nothing), one after the other, each accepted before the next. */
  clients(paths: readonly string[]): Promise<RecordingClient[]>;
  /** Ends the clients and the server. */
  close(clients: readonly RecordingClient[]): Promise<void>;
}

/** Starts a topic server on a free loopback port; `subscribe` is `topics.subscribe` or `bus.subscribe`. */
export async function startTopicServer(subscribe: (conn: Connection, topic: string) => unknown): Promise<TopicServer> {
  const conns: Connection[] = [];
  let waiter: { n: number; resolve(): void } | undefined;
  const server = await serve({ host: '127.0.0.1', port: 0 }, (conn) => {
    const topic = decodeURIComponent(conn.handshake.path.slice(1));
    if (topic !== '') subscribe(conn, topic);
    conns.push(conn);
    if (waiter !== undefined && conns.length >= waiter.n) waiter.resolve();
  });
  const accepted = (n: number): Promise<void> =>
    conns.length >= n ? Promise.resolve() : new Promise((resolve) => (waiter = { n, resolve }));
  return {
    server,
    conns,
    async clients(paths) {
      const opened: RecordingClient[] = [];
      const before = conns.length;
      for (const path of paths) {
        const c = new RecordingClient(server.url + path);
        await c.opened();
        opened.push(c);
        await accepted(before + opened.length);
      }
      return opened;
    },
    async close(clients) {
      for (const c of clients) c.ws.terminate();
      await server.close();
    },
  };
}
