// `msg.json()` with ws as the sending peer, over loopback TCP.
import { closeWsClientPairs, wsClientPair as pair } from '../helpers/ws-client-pair';

afterEach(closeWsClientPairs);

describe('IncomingMessage.json()', () => {
  it('parses a text message ws sent, and a binary one (decoded as UTF-8, as Response.json() does)', async () => {
    const { conn, ws } = await pair();
    ws.send(JSON.stringify({ op: 'join', room: 'ünï', n: [1, 2] }));
    ws.send(Buffer.from('\ufeff{"binary":true}'), { binary: true });
    expect(await (await conn.nextMessage())!.json()).toEqual({ op: 'join', room: 'ünï', n: [1, 2] });
    expect(await (await conn.nextMessage())!.json()).toEqual({ binary: true });
  });

  it('rejects invalid JSON with a SyntaxError and the connection goes on', async () => {
    const { conn, ws } = await pair();
    ws.send('{"unterminated": ');
    ws.send('"after"');
    await expect((await conn.nextMessage())!.json()).rejects.toBeInstanceOf(SyntaxError);
    expect(await (await conn.nextMessage())!.json()).toBe('after');
    expect(conn.readyState).toBe(1);
    const echoed = new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
    await conn.send('still open');
    expect(await echoed).toBe('still open');
  });
});
