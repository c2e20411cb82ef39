import { computeAccept, generateKey, isValidKey } from '../../lib/handshake/accept-key';
import { computeAcceptSync } from '../../lib/node/http-util';

describe('accept key', () => {
  it('computeAccept gives the RFC 6455 §1.3 example answer', async () => {
    await expect(computeAccept('dGhlIHNhbXBsZSBub25jZQ==')).resolves.toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('computeAcceptSync (node:crypto) agrees with the WebCrypto version', async () => {
    expect(computeAcceptSync('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    const key = generateKey();
    expect(computeAcceptSync(key)).toBe(await computeAccept(key));
  });

  it('generateKey makes distinct keys that decode to 16 bytes', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const key = generateKey();
      expect(key).toMatch(/^[A-Za-z0-9+/]{22}==$/);
      expect(atob(key).length).toBe(16);
      expect(isValidKey(key)).toBe(true);
      keys.add(key);
    }
    expect(keys.size).toBe(50);
  });

  it.each([
    ['', false],
    ['dGhlIHNhbXBsZSBub25jZQ', false], // no padding
    ['dGhlIHNhbXBsZSBub25jZQ=', false],
    ['dGhlIHNhbXBsZSBub25jZQ==', true],
    ['dGhlIHNhbXBsZSBub25jZXg=', false], // 17 bytes
    ['dGhlIHNhbXBsZSBub25j', false], // 15 bytes
    ['dGhlIHNhbXBsZSBub25jZ!==', false],
    [' dGhlIHNhbXBsZSBub25jZQ==', false],
  ])('isValidKey(%p) is %p', (key, valid) => {
    expect(isValidKey(key)).toBe(valid);
  });
});
