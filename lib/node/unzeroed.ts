/**
 * `size` bytes of memory that is not zero-filled first, as a plain Uint8Array over an
 * ArrayBuffer of exactly `size` bytes. `allocUnsafeSlow`, not `allocUnsafe`: a buffer of its
 * own, never a slice of node's shared pool whose other bytes belong to others. The caller
 * writes every byte (or zeroes what it does not) before anyone else can reach it.
 */
export function unzeroedBytes(size: number): Uint8Array {
  return new Uint8Array(Buffer.allocUnsafeSlow(size).buffer, 0, size);
}
