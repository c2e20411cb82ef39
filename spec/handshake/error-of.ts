import { HandshakeError } from '../../lib/handshake/errors';

/** The `HandshakeError` `f` throws (anything else thrown is rethrown; nothing thrown fails). */
export function errorOf(f: () => unknown): HandshakeError {
  try {
    f();
  } catch (err) {
    if (err instanceof HandshakeError) return err;
    throw err;
  }
  throw new Error('expected a HandshakeError');
}
