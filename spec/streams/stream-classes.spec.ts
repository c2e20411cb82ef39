import * as ponyfill from 'web-streams-polyfill';
import { handshakeInfo } from '../helpers/connection-pair';
import { MemoryTransport } from '../helpers/memory-transport';

type Lib = {
  classes: typeof import('../../lib/streams/stream-classes');
  Connection: typeof import('../../lib/streams/connection').Connection;
};

const NAMES = ['ReadableStream', 'WritableStream', 'TransformStream'] as const;
const g = globalThis as Record<string, unknown>;

/** A fresh copy of the library (its own stream-classes module), loaded while the runtime has no stream globals. */
function loadWithoutGlobals(): { lib: Lib; restore: () => void } {
  const saved = NAMES.map((n) => [n, g[n]] as const);
  for (const n of NAMES) delete g[n];
  let lib!: Lib;
  jest.isolateModules(() => {
    lib = {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      classes: require('../../lib/streams/stream-classes'),
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      Connection: require('../../lib/streams/connection').Connection,
    };
  });
  return { lib, restore: () => { for (const [n, v] of saved) if (v !== undefined) g[n] = v; } };
}

const pair = (Connection: Lib['Connection']) => {
  const [a, b] = MemoryTransport.pair();
  return { client: new Connection(a, { role: 'client', handshake: handshakeInfo() }), server: new Connection(b, { role: 'server', handshake: handshakeInfo() }) };
};

describe('stream classes: the globals, or those given to useStreamClasses()', () => {
  it('a Connection made where the runtime has no WHATWG streams and none were supplied throws a TypeError naming useStreamClasses()', () => {
    const { lib, restore } = loadWithoutGlobals();
    try {
      const [t] = MemoryTransport.pair();
      expect(() => new lib.Connection(t, { role: 'client', handshake: handshakeInfo() })).toThrow(TypeError);
      expect(() => new lib.Connection(t, { role: 'client', handshake: handshakeInfo() }))
        .toThrow("this runtime has no WHATWG streams: pass web-streams-polyfill's classes to useStreamClasses()");
      expect(() => lib.classes.streamClasses()).toThrow(TypeError);
    } finally {
      restore();
    }
  });

  it('classes supplied after the library was loaded are the ones its streams are made with', async () => {
    const { lib, restore } = loadWithoutGlobals();
    try {
      expect(lib.classes.usingPonyfill).toBe(false);
      lib.classes.useStreamClasses({
        ReadableStream: ponyfill.ReadableStream as unknown as typeof ReadableStream,
        WritableStream: ponyfill.WritableStream as unknown as typeof WritableStream,
        TransformStream: ponyfill.TransformStream as unknown as typeof TransformStream,
      });
      expect(lib.classes.usingPonyfill).toBe(true);
      expect(lib.classes.ReadableStream).toBe(ponyfill.ReadableStream);
      const { client, server } = pair(lib.Connection);
      expect(client.readable).toBeInstanceOf(ponyfill.ReadableStream);
      expect(client.writable).toBeInstanceOf(ponyfill.WritableStream);
      await client.send('over the ponyfill');
      const msg = (await server.nextMessage())!;
      expect(msg.stream()).toBeInstanceOf(ponyfill.ReadableStream);
      await client.send('again');
      expect(await (await server.nextMessage())!.text()).toBe('again');
      await client.close(1000, 'done');
      expect(await server.closed).toEqual({ wasClean: true, code: 1000, reason: 'done', endedBy: 'close-handshake' });
    } finally {
      restore();
    }
  });

  it('useStreamClasses() rejects what is not a pair of stream constructors', () => {
    const { lib, restore } = loadWithoutGlobals();
    try {
      expect(() => lib.classes.useStreamClasses({} as never)).toThrow(TypeError);
      expect(() => lib.classes.useStreamClasses(undefined as never)).toThrow(TypeError);
      expect(() => lib.classes.streamClasses()).toThrow(TypeError);
    } finally {
      restore();
    }
  });
});
