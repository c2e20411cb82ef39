import { WebSocketError } from '../../lib/streams/errors';
import { ReadableStream, usingPonyfill } from '../../lib/streams/stream-classes';
import { connectionPair } from '../helpers/connection-pair';
import type { Outcome, SendRejectionsReport } from '../helpers/send-rejections-child';
import { runChildReport } from '../helpers/run-child';
import { turns } from '../helpers/wire';

// A send that fails because the connection did is never an unhandled rejection on its own:
// `void conn.send(x)` (the broadcast pattern) must not take a process down, while awaiting the
// same send still rejects. Jest keeps the real process's 'unhandledRejection' to itself, so the
// sends run in a child process (spec/helpers/send-rejections-child.ts) that listens with
// process.on('unhandledRejection') and lets a few turns of the event loop pass after each
// scenario (setImmediate, no timers).

const runChild = (): Promise<SendRejectionsReport> => runChildReport<SendRejectionsReport>('send-rejections-child.ts');

const wsError = (code: number): Outcome => expect.objectContaining({ isWebSocketError: true, closeCode: code }) as unknown as Outcome;

describe(`send rejections (${usingPonyfill ? 'ponyfill' : 'native'} streams)`, () => {
  let report: SendRejectionsReport;
  beforeAll(async () => {
    report = await runChild();
  }, 60_000);

  describe('fire-and-forget sends never leave an unhandled rejection', () => {
    it.each([
      'lost connection',
      'failed connection',
      'closing (close() called)',
      'lost while sends wait for the drain',
      'lost while a MessageWriter waits',
      'server broadcast with one client gone (real TCP)',
    ])('%s', (scenario) => {
      expect(report.outcomes[scenario]).toBeDefined();
      expect(report.unhandled[scenario] ?? []).toEqual([]);
    });

    it('nor between or after the scenarios', () => {
      expect(report.unhandled).toEqual({});
    });
  });

  describe('awaiting the same sends still rejects', () => {
    it('sends waiting for the drain when the transport is lost: WebSocketError 1006 CONNECTION_LOST', () => {
      const o = report.outcomes['lost while sends wait for the drain']!;
      expect(o['send(big) pending']).toEqual(expect.objectContaining({ isWebSocketError: true, closeCode: 1006, kind: 'CONNECTION_LOST' }));
      expect(o['send(text) queued']).toEqual(expect.objectContaining({ isWebSocketError: true, closeCode: 1006, kind: 'CONNECTION_LOST' }));
    });

    it('a MessageWriter\'s sendFrame waiting for the drain rejects with the loss (1006)', () => {
      expect(report.outcomes['lost while a MessageWriter waits']!['sendFrame pending']).toEqual(wsError(1006));
    });

    it('a send queued behind a MessageWriter when the transport is lost: WebSocketError 1006', () => {
      expect(report.outcomes['lost while a MessageWriter waits']!['send queued behind a writer']).toEqual(wsError(1006));
    });

    it('a MessageWriter cut off by the loss: sendFrame throws and end() rejects, with the loss (1006)', () => {
      const o = report.outcomes['lost while a MessageWriter waits']!;
      expect(o['sendFrame after the loss']).toEqual({ threw: expect.objectContaining({ isWebSocketError: true, closeCode: 1006 }) });
      expect(o['end() after the loss']).toEqual(wsError(1006));
      // Beginning a new message on a closed connection is misuse: it throws at once.
      expect(o['beginMessage after the loss']).toEqual({ threw: expect.objectContaining({ name: expect.any(String) }) });
    });

    it('every kind of send to a connection already lost: WebSocketError 1006', () => {
      const o = report.outcomes['lost connection']!;
      expect(Object.keys(o).length).toBe(8);
      for (const outcome of Object.values(o)) expect(outcome).toEqual(wsError(1006));
    });

    it('every kind of send to a connection that failed (a reserved opcode from the peer): WebSocketError 1002', () => {
      const o = report.outcomes['failed connection']!;
      expect(Object.keys(o).length).toBe(8);
      for (const outcome of Object.values(o)) expect(outcome).toEqual(wsError(1002));
    });

    it('every kind of send after close(): rejects (sending after close is misuse: InvalidStateError)', () => {
      const o = report.outcomes['closing (close() called)']!;
      expect(Object.keys(o).length).toBe(8);
      for (const outcome of Object.values(o)) expect(outcome).toEqual(expect.objectContaining({ name: 'InvalidStateError' }));
    });

    it('the broadcast pattern: a send to the connection of the destroyed ws client rejects with WebSocketError 1006', () => {
      expect(report.outcomes['server broadcast with one client gone (real TCP)']!['send to the lost connection']).toEqual(wsError(1006));
    });
  });

  describe('sends to a connection already lost', () => {
    it('a send that needs a writer (fragmentSize) does not fail the lost connection again: later sends still learn 1006, not 1011', async () => {
      const { client, clientTransport } = connectionPair();
      clientTransport.destroy();
      expect(await client.closed).toMatchObject({ wasClean: false, code: 1006, reason: '' });
      await expect(client.send(new Uint8Array(10), { fragmentSize: 3 })).rejects.toMatchObject({ name: 'WebSocketError', closeCode: 1006 });
      await expect(client.send('after')).rejects.toMatchObject({ name: 'WebSocketError', closeCode: 1006, kind: 'CONNECTION_LOST' });
      expect(await client.closed).toMatchObject({ wasClean: false, code: 1006, reason: '' });
    });

    it('after a clean close, a send is misuse: InvalidStateError, also when not awaited', async () => {
      const { client, server } = connectionPair();
      void server.nextMessage();
      expect(await client.close(1000)).toMatchObject({ wasClean: true, code: 1000, reason: '' });
      await expect(client.send('late')).rejects.toMatchObject({ name: 'InvalidStateError' });
    });
  });

  describe('a streamed send cut off by the loss of the connection', () => {
    it.each(['the source then ends', 'the source then gives another chunk'])('rejects with the loss (WebSocketError 1006) when %s', async (then) => {
      const { client, clientTransport } = connectionPair();
      let source!: ReadableStreamDefaultController<Uint8Array>;
      const stream = new ReadableStream<Uint8Array>({
        start: (c) => {
          source = c;
          c.enqueue(new Uint8Array([1, 2, 3]));
        },
      });
      const sending = client.send(stream).then(() => 'resolved', (e: unknown) => e);
      await turns();
      clientTransport.destroy();
      expect(await client.closed).toMatchObject({ code: 1006 });
      if (then === 'the source then ends') source.close();
      else source.enqueue(new Uint8Array([4]));
      const outcome = await sending;
      expect(outcome).toBeInstanceOf(WebSocketError);
      expect(outcome).toMatchObject({ closeCode: 1006, kind: 'CONNECTION_LOST' });
    });
  });
});
