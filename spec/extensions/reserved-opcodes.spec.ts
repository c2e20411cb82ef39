// Reserved opcodes (RFC 6455 §5.2: 0x3–0x7 data, 0xB–0xF control) reach the advanced API only
// when an extension defines them; otherwise the connection fails with 1002.
import type { Extension } from '../../lib/protocol/extension';
import { connectionPair } from '../helpers/connection-pair';

const opcodeExtension = (): Extension => ({
  name: 'x-opcodes',
  rsvBits: 0,
  opcodes: [0x3, 0xb],
  checkIncomingFrame: () => undefined,
  createDecoder: () => undefined,
  createEncoder: () => undefined,
  close: () => undefined,
});

describe('reserved opcodes', () => {
  it('a message with reserved data opcode 0x3 and a control frame 0xB reach a peer whose extension defines them', async () => {
    const { client, server } = connectionPair({ clientExtensions: [opcodeExtension()], serverExtensions: [opcodeExtension()] });
    const controls: Array<[number, string]> = [];
    server.onControlFrame = (opcode, _rsv, data) => controls.push([opcode, new TextDecoder().decode(data)]);
    const w = client.beginMessage('binary', { opcode: 0x3 });
    await w.sendFrame(new Uint8Array([1, 2, 3]), { fin: true });
    client.sendControlFrame(0xb, 'ctl');
    const reader = server.readable.getReader();
    const { value: msg } = await reader.read();
    expect([msg!.opcode, msg!.type, Array.from(await msg!.bytes())]).toEqual([3, 'binary', [1, 2, 3]]);
    await client.send('after');
    const { value: next } = await reader.read();
    expect(await next!.text()).toBe('after');
    expect(controls).toEqual([[0xb, 'ctl']]);
    reader.releaseLock();
    await client.close(1000);
  });

  it.each([
    ['data opcode 0x3', (c: import('../../lib/streams/connection').Connection) => void c.beginMessage('binary', { opcode: 0x3 }).sendFrame(new Uint8Array([1]), { fin: true })],
    ['control opcode 0xB', (c: import('../../lib/streams/connection').Connection) => c.sendControlFrame(0xb, 'x')],
  ])('a peer without the extension fails the connection with 1002 on %s', async (_what, send) => {
    const { client, server } = connectionPair({ clientExtensions: [opcodeExtension()] });
    void server.readable.getReader().read().catch(() => undefined);
    send(client);
    expect(await server.closed).toMatchObject({ code: 1002 });
    expect(await client.closed).toMatchObject({ code: 1002 });
  });

  it('refuses opcodes outside the reserved ranges at once', () => {
    const { client } = connectionPair();
    expect(() => client.beginMessage('binary', { opcode: 0x8 })).toThrow(RangeError);
    expect(() => client.sendControlFrame(0x9, 'x')).toThrow(RangeError);
    expect(() => client.sendControlFrame(0x10, 'x')).toThrow(RangeError);
  });
});
