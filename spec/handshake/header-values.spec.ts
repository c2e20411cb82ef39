import { HandshakeError } from '../../lib/handshake/errors';
import {
  flattenHeaders, hasToken, isToken, joinHeader, parseExtensions, parseTokenList, serializeExtensions,
} from '../../lib/handshake/header-values';

describe('parseExtensions', () => {
  it('parseExtensions reads one extension without parameters', () => {
    expect(parseExtensions('permessage-deflate')).toEqual([{ name: 'permessage-deflate', params: [] }]);
  });

  it('parseExtensions reads parameters with and without values, in order', () => {
    expect(parseExtensions('permessage-deflate; client_max_window_bits; server_max_window_bits=10')).toEqual([
      { name: 'permessage-deflate', params: [['client_max_window_bits', true], ['server_max_window_bits', '10']] },
    ]);
  });

  it('parseExtensions unquotes quoted values and their escapes', () => {
    expect(parseExtensions('x; a="10"; b="x\\yz"')).toEqual([{ name: 'x', params: [['a', '10'], ['b', 'xyz']] }]);
  });

  it('parseExtensions reads several comma-separated entries, keeping duplicates', () => {
    expect(parseExtensions('permessage-deflate; server_no_context_takeover, permessage-deflate, x-foo')).toEqual([
      { name: 'permessage-deflate', params: [['server_no_context_takeover', true]] },
      { name: 'permessage-deflate', params: [] },
      { name: 'x-foo', params: [] },
    ]);
  });

  it('parseExtensions keeps duplicated parameters', () => {
    expect(parseExtensions('x; a=1; a=2')).toEqual([{ name: 'x', params: [['a', '1'], ['a', '2']] }]);
  });

  it('parseExtensions joins several header lines', () => {
    expect(parseExtensions(['a; p=1', 'b'])).toEqual([
      { name: 'a', params: [['p', '1']] },
      { name: 'b', params: [] },
    ]);
  });

  it('parseExtensions allows whitespace around separators and skips empty elements', () => {
    expect(parseExtensions(' ,a \t;  p = 1 ,, b ; q= "2" ,')).toEqual([
      { name: 'a', params: [['p', '1']] },
      { name: 'b', params: [['q', '2']] },
    ]);
  });

  it('parseExtensions gives nothing for an absent or empty header', () => {
    expect(parseExtensions(undefined)).toEqual([]);
    expect(parseExtensions('')).toEqual([]);
    expect(parseExtensions([])).toEqual([]);
  });

  it.each([
    ['a;', 'expected a parameter name'],
    ['a; =1', 'expected a parameter name'],
    ['a; p=', 'expected a parameter value'],
    ['a; p="1', 'unterminated quoted string'],
    ['a; p="a b"', 'a quoted value must be a token once unquoted'],
    ['a; p=""', 'a quoted value must be a token once unquoted'],
    ['a b', 'expected "," or ";"'],
    ['a; p=1 2', 'expected "," or ";"'],
    ['"a"', 'expected an extension name'],
    ['a; p=1=2', 'expected "," or ";"'],
    ['a/b', 'expected "," or ";"'],
  ])('parseExtensions refuses %p (%s)', (value, detail) => {
    let error: unknown;
    try {
      parseExtensions(value);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(HandshakeError);
    expect((error as HandshakeError).kind).toBe('MALFORMED_HEADER');
    expect((error as HandshakeError).message).toContain(detail);
    expect((error as HandshakeError).message).toMatch(/^Malformed Sec-WebSocket-Extensions header at character \d+: /);
  });
});

describe('serializeExtensions', () => {
  it('serializeExtensions writes entries and parameters in order', () => {
    expect(
      serializeExtensions([
        { name: 'permessage-deflate', params: [['client_max_window_bits', true], ['server_max_window_bits', '10']] },
        { name: 'x', params: [] },
      ]),
    ).toBe('permessage-deflate; client_max_window_bits; server_max_window_bits=10, x');
  });

  it('serializeExtensions output parses back to the same entries', () => {
    const entries = [
      { name: 'a', params: [['p', true], ['q', '15']] as const },
      { name: 'b', params: [] },
    ];
    expect(parseExtensions(serializeExtensions(entries))).toEqual(entries);
  });

  it('serializeExtensions refuses names and values that are not tokens', () => {
    expect(() => serializeExtensions([{ name: 'a b', params: [] }])).toThrow(TypeError);
    expect(() => serializeExtensions([{ name: 'a', params: [['p\r\n', true]] }])).toThrow(TypeError);
    expect(() => serializeExtensions([{ name: 'a', params: [['p', 'x, evil']] }])).toThrow(
      'Extension parameter p has value "x, evil", which is not a token',
    );
  });
});

describe('parseTokenList', () => {
  it('parseTokenList splits a protocol list and trims whitespace', () => {
    expect(parseTokenList('chat, superchat ,\tv2.json', 'Sec-WebSocket-Protocol')).toEqual(['chat', 'superchat', 'v2.json']);
  });

  it('parseTokenList joins several lines and skips empty elements', () => {
    expect(parseTokenList(['a,', ' ,b'], 'Sec-WebSocket-Protocol')).toEqual(['a', 'b']);
  });

  it('parseTokenList gives nothing for an absent header', () => {
    expect(parseTokenList(undefined, 'Sec-WebSocket-Protocol')).toEqual([]);
  });

  it('parseTokenList refuses an element that is not a token', () => {
    expect(() => parseTokenList('chat, a b', 'Sec-WebSocket-Protocol')).toThrow(
      new HandshakeError('MALFORMED_HEADER', 'Malformed Sec-WebSocket-Protocol header: "a b" is not a token'),
    );
  });
});

describe('hasToken', () => {
  it('hasToken finds a token case-insensitively in a list', () => {
    expect(hasToken('keep-alive, Upgrade', 'upgrade')).toBe(true);
    expect(hasToken('UPGRADE', 'upgrade')).toBe(true);
    expect(hasToken(['keep-alive', 'upgrade'], 'upgrade')).toBe(true);
  });

  it('hasToken does not match parts of tokens or absent headers', () => {
    expect(hasToken('upgraded, keep-alive', 'upgrade')).toBe(false);
    expect(hasToken('close', 'upgrade')).toBe(false);
    expect(hasToken(undefined, 'upgrade')).toBe(false);
  });
});

describe('isToken and header helpers', () => {
  it('isToken accepts RFC 7230 tchars and refuses separators', () => {
    expect(isToken("!#$%&'*+-.^_`|~09AZaz")).toBe(true);
    for (const c of ['', ' ', '"', '(', ')', ',', '/', ':', ';', '<', '=', '>', '?', '@', '[', '\\', ']', '{', '}', 'é', '\x7f']) {
      expect(isToken(`a${c}`)).toBe(c === '');
    }
  });

  it('joinHeader and flattenHeaders join repeated lines with ", " and drop absent values', () => {
    expect(joinHeader(['a', 'b'])).toBe('a, b');
    expect(flattenHeaders({ a: 'x', b: ['y', 'z'], c: undefined })).toEqual({ a: 'x', b: 'y, z' });
  });
});
