// Its own module so that what imports only this error (the browser entry) does not depend on
// the module of the whole Protocol: rollup shares code between entries module by module.

/** Thrown for local misuse that depends on the connection's state (sending after close). */
export class InvalidStateError extends Error {
  /** Always `'InvalidStateError'`, to tell it apart without `instanceof`. */
  override readonly name = 'InvalidStateError';
}
