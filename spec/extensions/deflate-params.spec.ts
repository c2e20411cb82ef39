// RFC 7692 §7.1 negotiation, offer by offer: what a server answers or declines, what a client accepts.
import { parseExtensions } from '../../lib/handshake/header-values';
import { negotiateExtensions } from '../../lib/handshake/server-handshake';
import { PerMessageDeflate, DeflateExtension } from '../../lib/extensions/permessage-deflate/permessage-deflate';
import type { PerMessageDeflateOptions } from '../../lib/extensions/permessage-deflate/params';
import { serializeExtensions } from '../../lib/handshake/header-values';
import { zlibEngine } from '../../lib/node/zlib-engine';
import { deflateRawSync, inflateRawSync, constants as zc } from 'node:zlib';

const engine = zlibEngine();

/** The server's answer to a request header, as a header, and the agreement it made. */
function serverAnswer(header: string, options: PerMessageDeflateOptions = {}) {
  const n = negotiateExtensions(parseExtensions(header), [new PerMessageDeflate(engine, options)]);
  const ext = n.extensions[0] as DeflateExtension | undefined;
  ext?.close();
  return { header: n.header, agreement: ext?.agreement };
}

function clientComplete(response: string, options: PerMessageDeflateOptions = {}) {
  const [entry] = parseExtensions(response);
  const ext = new PerMessageDeflate(engine, options).complete(entry) as DeflateExtension;
  ext.close();
  return ext.agreement;
}

describe('permessage-deflate negotiation, server side', () => {
  it('accepts a bare offer with no parameters and full windows with context takeover', () => {
    expect(serverAnswer('permessage-deflate')).toEqual({
      header: 'permessage-deflate',
      agreement: { localNoContextTakeover: false, remoteNoContextTakeover: false, localWindowBits: 15, remoteWindowBits: 15 },
    });
  });

  it('answers a browser offer (client_max_window_bits without a value) without restricting the client', () => {
    expect(serverAnswer('permessage-deflate; client_max_window_bits').header).toBe('permessage-deflate');
  });

  it('honours every parameter of the offer, with quoted values', () => {
    const r = serverAnswer('permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits="10"; client_max_window_bits=11');
    expect(r.header).toBe('permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11');
    expect(r.agreement).toEqual({ localNoContextTakeover: true, remoteNoContextTakeover: true, localWindowBits: 10, remoteWindowBits: 11 });
  });

  it('picks the first acceptable offer, declining invalid ones before it', () => {
    const r = serverAnswer('permessage-deflate; server_max_window_bits=16, permessage-deflate; foo, permessage-deflate; server_max_window_bits=12, permessage-deflate');
    expect(r.header).toBe('permessage-deflate; server_max_window_bits=12');
  });

  it.each([
    ['a duplicate parameter', 'permessage-deflate; server_no_context_takeover; server_no_context_takeover'],
    ['an unknown parameter', 'permessage-deflate; x=1'],
    ['server_max_window_bits without a value', 'permessage-deflate; server_max_window_bits'],
    ['a window of 16', 'permessage-deflate; client_max_window_bits=16'],
    ['a window of 7', 'permessage-deflate; server_max_window_bits=7'],
    ['a leading zero', 'permessage-deflate; server_max_window_bits=09'],
    ['a value on a flag', 'permessage-deflate; server_no_context_takeover=1'],
  ])('declines an offer with %s (no extension, no error)', (_what, header) => {
    expect(serverAnswer(header)).toEqual({ header: '', agreement: undefined });
  });

  it('accepts windows of 8 bits both ways', () => {
    expect(serverAnswer('permessage-deflate; client_max_window_bits=8').agreement?.remoteWindowBits).toBe(8);
    expect(serverAnswer('permessage-deflate; server_max_window_bits=8')).toEqual({
      header: 'permessage-deflate; server_max_window_bits=8',
      agreement: { localNoContextTakeover: false, remoteNoContextTakeover: false, localWindowBits: 8, remoteWindowBits: 15 },
    });
    expect(clientComplete('permessage-deflate; client_max_window_bits=8').localWindowBits).toBe(8);
  });

  it('compresses within an agreed 8-bit window: a strict 256-byte inflater takes the output', async () => {
    const ext = new PerMessageDeflate(engine).complete({ name: 'permessage-deflate', params: [['client_max_window_bits', '8']] });
    // Pseudo-random 16-hex-digit tokens, every third a repeat of one 50 tokens (~850 bytes)
    // back: a window of 512 bytes or more reaches for them, 256 bytes cannot.
    let x = 2463534242;
    const rnd = (): string => {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      return x.toString(16).padStart(8, '0');
    };
    const parts: string[] = [];
    for (let i = 0; i < 600; i++) parts.push(i % 3 === 0 && i > 60 ? parts[i - 50] : rnd() + rnd());
    const data = new TextEncoder().encode(parts.join('|'));
    const enc = ext.createEncoder(2, undefined)!;
    const out: Uint8Array[] = [];
    await enc.transform.transform(data, (b) => void out.push(b.slice()));
    await enc.transform.flush(true, (b) => void out.push(b.slice()));
    ext.close();
    const wire = Buffer.concat([...out, Buffer.from([0, 0, 0xff, 0xff])]);
    // Output in 64-byte pieces, so every match must come from the 256-byte window itself.
    const strict = { windowBits: 8, finishFlush: zc.Z_SYNC_FLUSH, chunkSize: 64 };
    expect(inflateRawSync(wire, strict).equals(Buffer.from(data))).toBe(true);
    // The control: what a 15-bit window makes of the same data does not fit 8 bits.
    const wide = deflateRawSync(data, { windowBits: 15, finishFlush: zc.Z_SYNC_FLUSH });
    expect(() => inflateRawSync(wide, strict)).toThrow(/too far back/);
  });

  it('applies its own options: no context takeover both ways, capped windows', () => {
    const r = serverAnswer('permessage-deflate; client_max_window_bits; server_max_window_bits=14', {
      serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 12, clientMaxWindowBits: 10,
    });
    expect(r.header).toBe('permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=10');
  });

  it('never names client_max_window_bits when the client did not offer it (RFC 7692 §7.1.2.2)', () => {
    expect(serverAnswer('permessage-deflate', { clientMaxWindowBits: 10 }).header).toBe('permessage-deflate');
  });

  it('declines when permessage-deflate is not configured', () => {
    expect(negotiateExtensions(parseExtensions('permessage-deflate'), []).header).toBe('');
  });
});

describe('permessage-deflate negotiation, client side', () => {
  it('offers client_max_window_bits without a value by default, and every requested parameter', () => {
    expect(serializeExtensions(new PerMessageDeflate(engine).offer())).toBe('permessage-deflate; client_max_window_bits');
    expect(serializeExtensions(new PerMessageDeflate(engine, {
      serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 9,
    }).offer())).toBe('permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9');
  });

  it('takes the parameters the server chose', () => {
    expect(clientComplete('permessage-deflate; server_no_context_takeover; client_max_window_bits=10; server_max_window_bits=12'))
      .toEqual({ localNoContextTakeover: false, remoteNoContextTakeover: true, localWindowBits: 10, remoteWindowBits: 12 });
    expect(clientComplete('permessage-deflate; client_no_context_takeover').localNoContextTakeover).toBe(true);
  });

  it.each([
    ['a duplicate parameter', 'permessage-deflate; client_no_context_takeover; client_no_context_takeover', {}],
    ['an unknown parameter', 'permessage-deflate; foo', {}],
    ['a window wider than offered', 'permessage-deflate; client_max_window_bits=12', { clientMaxWindowBits: 10 }],
    ['client_max_window_bits without a value', 'permessage-deflate; client_max_window_bits', {}],
    ['a missing server_no_context_takeover that was requested', 'permessage-deflate', { serverNoContextTakeover: true }],
    ['a server window wider than requested', 'permessage-deflate; server_max_window_bits=13', { serverMaxWindowBits: 10 }],
  ])('fails the handshake on a response with %s', (_what, header, options) => {
    expect(() => clientComplete(header, options as PerMessageDeflateOptions)).toThrow(/permessage-deflate|server_|client_|offered|requested|zlib|value/);
  });

  it('refuses out-of-range options at once', () => {
    expect(() => new PerMessageDeflate(engine, { serverMaxWindowBits: 7 })).toThrow(RangeError);
    expect(() => new PerMessageDeflate(engine, { level: 10 })).toThrow(RangeError);
    expect(() => new PerMessageDeflate(engine, { clientMaxWindowBits: 16 })).toThrow(RangeError);
  });
});
