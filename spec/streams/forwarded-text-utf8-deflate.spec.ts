// RFC 6455 §8.1 for text forwarded on a permessage-deflate connection (RFC 7692): only
// validated text leaves, every frame sent before the message's end inflates to complete code
// points, and a failure's close frame goes between frames. Two paths: a compressed message is
// inflated and re-framed (`forwardDecoded`); an uncompressed one sent on through a connection
// that compresses goes through the writer frame by frame (`forwardMessage`).
import { deflateRawSync, constants as zc } from 'node:zlib';
import { isValidUtf8 } from '../../lib/codec/utf8-validator';
import { PerMessageDeflate } from '../../lib/extensions/permessage-deflate/permessage-deflate';
import { zlibEngine } from '../../lib/node/zlib-engine';
import { concat, hex, toHex } from '../helpers/connection-pair';
import { closeCode, frameTo, inflateFrames, rawPeer, received, until, type RawPeer, type Role, type WireFrame, echo, type EchoMode } from '../helpers/raw-peer';

const TEXT = 0x1;
const CONT = 0x0;
const CLOSE = 0x8;
const RSV1 = 0b100;

type Mode = EchoMode;

const NO_TAKEOVER: Array<[string, true]> = [['server_no_context_takeover', true], ['client_no_context_takeover', true]];

function deflatePeer(role: Role): RawPeer {
  const factory = new PerMessageDeflate(zlibEngine());
  const ext = role === 'server'
    ? factory.accept([{ name: 'permessage-deflate', params: NO_TAKEOVER }])!.extension
    : factory.complete({ name: 'permessage-deflate', params: NO_TAKEOVER });
  return rawPeer(role, { extensions: [ext] });
}


const made: RawPeer[] = [];
function echoPeer(role: Role, mode: Mode): RawPeer {
  const rp = deflatePeer(role);
  made.push(rp);
  echo(rp.conn, mode);
  return rp;
}
afterEach(() => {
  for (const rp of made.splice(0)) rp.peer.destroy();
});

/** RFC 7692 §7.2.1: raw deflate, sync flush, its trailing 00 00 FF FF removed. */
function compress(data: Uint8Array): Uint8Array {
  const out = deflateRawSync(data, { finishFlush: zc.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}

const isData = (f: WireFrame): boolean => f.opcode < 0x8;

/**
 * What the peer received, checked clean: parseable, no frame open, nothing after a close
 * frame, compressed (the connection compresses what it sends) and every data frame inflating
 * to complete, valid code points. Returns the inflated text of each data frame.
 */
function cleanTexts(rp: RawPeer): { texts: Uint8Array[]; frames: WireFrame[] } {
  const rx = received(rp, RSV1);
  expect(rx.error).toBeUndefined();
  expect(rx.open).toBe(false);
  const close = rx.frames.findIndex((f) => f.opcode === CLOSE);
  if (close >= 0) expect(close).toBe(rx.frames.length - 1);
  const frames = rx.frames.filter(isData);
  if (frames.length === 0) return { texts: [], frames: rx.frames };
  expect(frames[0]!.opcode).toBe(TEXT);
  expect(frames[0]!.rsv).toBe(RSV1);
  const texts = inflateFrames(frames.map((f) => f.payload));
  for (const t of texts) expect(isValidUtf8(t)).toBe(true);
  return { texts, frames: rx.frames };
}

async function echoedText(rp: RawPeer): Promise<Uint8Array[]> {
  await until(() => received(rp, RSV1).frames.some((f) => isData(f) && f.fin), 5000, 'the echoed message');
  return cleanTexts(rp).texts;
}

async function closedWith(rp: RawPeer, code: number): Promise<Uint8Array[]> {
  await until(() => received(rp, RSV1).frames.some((f) => f.opcode === CLOSE), 5000, 'the close frame');
  const { texts, frames } = cleanTexts(rp);
  const last = frames[frames.length - 1]!;
  expect(last.opcode).toBe(CLOSE);
  expect(closeCode(last)).toBe(code);
  expect(frames.filter((f) => isData(f) && f.fin)).toEqual([]);
  return texts;
}

const KOSME = 'cebae1bdb9cf83cebcceb5';

describe.each([
  ['server', 'pipeTo'],
  ['server', 'send'],
  ['client', 'pipeTo'],
  ['client', 'send'],
] as Array<[Role, Mode]>)('text forwarded by a %s connection with permessage-deflate, through %s', (role, mode) => {
  // ---- a compressed message: inflated, validated, re-framed ----

  it('compressed valid text is echoed whole, compressed, in one frame', async () => {
    const rp = echoPeer(role, mode);
    rp.peer.write([frameTo(role, TEXT, compress(hex(KOSME)), { rsv: RSV1 })]);
    const texts = await echoedText(rp);
    expect(texts.map(toHex)).toEqual([KOSME]);
  });

  it('§8.1: compressed text that inflates to the single byte 0xce: no text frame, only a close 1007', async () => {
    const rp = echoPeer(role, mode);
    rp.peer.write([frameTo(role, TEXT, compress(hex('ce')), { rsv: RSV1 })]);
    expect(await closedWith(rp, 1007)).toEqual([]);
  });

  it('compressed text turning invalid (Autobahn 6.4.x payload): a valid prefix at most, then a close 1007', async () => {
    const payload = hex(`${KOSME}f4908080656469746564`);
    const rp = echoPeer(role, mode);
    rp.peer.write([frameTo(role, TEXT, compress(payload), { rsv: RSV1 })]);
    const texts = await closedWith(rp, 1007);
    expect(toHex(payload).startsWith(toHex(concat(texts)))).toBe(true);
  });

  it('compressed text over 256 KiB: the frames it is re-framed into are cut on code point boundaries', async () => {
    // "€" is 3 bytes: a cut at a power of two falls inside one unless it is moved.
    const text = new TextEncoder().encode('€'.repeat(150_000));
    const rp = echoPeer(role, mode);
    rp.peer.write([frameTo(role, TEXT, compress(text), { rsv: RSV1 })]);
    const texts = await echoedText(rp);
    expect(texts.length).toBeGreaterThan(1);
    expect(Buffer.compare(Buffer.from(concat(texts)), Buffer.from(text))).toBe(0);
  });

  it('compressed text over 256 KiB ending inside a code point: whole code points in non-final frames, then a close 1007', async () => {
    const text = concat([new TextEncoder().encode('€'.repeat(150_000)), hex('e282')]);
    const rp = echoPeer(role, mode);
    rp.peer.write([frameTo(role, TEXT, compress(text), { rsv: RSV1 })]);
    const texts = await closedWith(rp, 1007);
    // The frames that went before the end (the end check failed) hold a prefix of the text.
    expect(texts.length).toBeGreaterThan(0);
    const got = concat(texts);
    expect(Buffer.compare(Buffer.from(got), Buffer.from(text.subarray(0, got.length)))).toBe(0);
  });

  // ---- an uncompressed message, compressed by the sending side frame by frame ----

  it('uncompressed §8.1 case: the single byte 0xce is never sent, only a close 1007', async () => {
    const rp = echoPeer(role, mode);
    rp.peer.write([frameTo(role, TEXT, hex('ce'))]);
    expect(await closedWith(rp, 1007)).toEqual([]);
  });

  it('uncompressed, turning invalid halfway in two reads: the valid text, then a close 1007 between frames', async () => {
    const wire = frameTo(role, TEXT, hex(`${KOSME}f4908080`));
    const rp = echoPeer(role, mode);
    rp.peer.write([wire.subarray(0, wire.length - 4)]);
    await until(() => received(rp, RSV1).frames.length > 0, 5000, 'the first piece');
    rp.peer.write([wire.subarray(wire.length - 4)]);
    expect((await closedWith(rp, 1007)).map(toHex)).toEqual([KOSME]);
  });

  it('uncompressed, a code point split across two reads and across two fragments: echoed whole in frames of complete code points', async () => {
    const payload = hex(KOSME);
    const inOneFrame = frameTo(role, TEXT, payload);
    const head = inOneFrame.length - payload.length;
    for (const reads of [
      [inOneFrame.subarray(0, head + 3), inOneFrame.subarray(head + 3)],
      [frameTo(role, TEXT, payload.subarray(0, 3), { fin: false }), frameTo(role, CONT, payload.subarray(3))],
    ]) {
      const rp = echoPeer(role, mode);
      rp.peer.write([reads[0]!]);
      await until(() => received(rp, RSV1).frames.length > 0, 5000, 'the first piece');
      rp.peer.write([reads[1]!]);
      expect((await echoedText(rp)).map(toHex)).toEqual(['ceba', 'e1bdb9cf83cebcceb5']);
    }
  });

  it('uncompressed, a message ending inside a code point after a valid fragment: the valid part, then a close 1007', async () => {
    const rp = echoPeer(role, mode);
    rp.peer.write([frameTo(role, TEXT, hex('61ce'), { fin: false }), frameTo(role, CONT, new Uint8Array(0))]);
    expect((await closedWith(rp, 1007)).map(toHex)).toEqual(['61']);
  });
});
