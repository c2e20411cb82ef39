import { isExemptFromProxy, resolveProxy } from '../../lib/node/proxy';

// Which proxy a URL goes through: the option, or the environment read as curl reads it.

const url = (s: string): URL => new URL(s);

describe('resolveProxy', () => {
  it('uses an explicit proxy URL whatever the environment says, and reads the environment only for "env"', () => {
    const env = { HTTP_PROXY: 'http://env-proxy:3128', NO_PROXY: '*' };
    expect(resolveProxy('http://p:8080', url('ws://example.com/'), env)?.href).toBe('http://p:8080/');
    expect(resolveProxy(undefined, url('ws://example.com/'), env)).toBeUndefined();
    expect(resolveProxy('env', url('ws://example.com/'), { HTTP_PROXY: 'http://env-proxy:3128' })?.host).toBe('env-proxy:3128');
  });

  it('takes HTTPS_PROXY for wss: and HTTP_PROXY for ws:, lower case first', () => {
    const env = { http_proxy: 'http://lower:1', HTTP_PROXY: 'http://upper:2', HTTPS_PROXY: 'http://secure:3' };
    expect(resolveProxy('env', url('ws://a.test/'), env)?.host).toBe('lower:1');
    expect(resolveProxy('env', url('wss://a.test/'), env)?.host).toBe('secure:3');
    expect(resolveProxy('env', url('wss://a.test/'), { HTTP_PROXY: 'http://plain:1' })).toBeUndefined();
  });

  it('reads host:port alone as http:, defaults the port to 1080 as curl, and refuses other schemes', () => {
    expect(resolveProxy('env', url('ws://a.test/'), { http_proxy: 'proxy.local:3128' })?.href).toBe('http://proxy.local:3128/');
    expect(resolveProxy('http://proxy.local', url('ws://a.test/'))?.port).toBe('');
    expect(() => resolveProxy('socks5://p:1080', url('ws://a.test/'))).toThrow(TypeError);
    expect(() => resolveProxy('env', url('ws://a.test/'), { http_proxy: 'https://p:443' })).toThrow(/HTTP_PROXY must be an http: proxy URL/);
  });
});

describe('isExemptFromProxy (NO_PROXY)', () => {
  it.each([
    ['*', 'ws://anything.test/', true],
    ['example.com', 'ws://example.com/', true],
    ['example.com', 'wss://api.EXAMPLE.com/', true],
    ['.example.com', 'ws://example.com/', true],
    ['example.com', 'ws://notexample.com/', false],
    ['example.com:8080', 'ws://example.com:8080/', true],
    ['example.com:8080', 'ws://example.com/', false],
    ['example.com:443', 'wss://example.com/', true],
    ['10.0.0.1', 'ws://10.0.0.1:9000/', true],
    ['0.0.1', 'ws://10.0.0.1/', false],
    ['::1', 'ws://[::1]:9000/', true],
    ['[::1]:9000', 'ws://[::1]:9000/', true],
    ['[::1]:9000', 'ws://[::1]:9001/', false],
    ['a.test, b.test', 'ws://b.test/', true],
    ['a.test b.test', 'ws://b.test/', true],
    ['', 'ws://a.test/', false],
  ])('NO_PROXY=%p for %s: %p', (noProxy, target, exempt) => {
    expect(isExemptFromProxy(noProxy, url(target))).toBe(exempt);
  });
});
