// The bulk of masking as one WebAssembly SIMD loop: XOR 16 bytes per instruction, where the
// best JavaScript loop (32-bit words through an Int32Array) does 4. Profiling the 1 MiB echo
// showed masking at 3.5 GB/s in JavaScript under load, a quarter of the server's CPU; this
// kernel, with the two copies into and out of its memory, runs at 10+ GB/s. It is portable
// code shipped as bytes in this file (no native addon, no build step), and optional: where
// WebAssembly or its SIMD is missing (old engines, `--jitless`, a CSP without
// 'wasm-unsafe-eval') the JavaScript loop does the work.

/** Bytes handled per call into the kernel: the part of its memory data is copied into. */
export const SIMD_SLICE = 64 * 1024;

/*
 * The module, in the text format:
 *
 *   (module
 *     (memory (export "m") 2)                       ;; 128 KiB: a slice, where it starts, room past it
 *     (func (export "x") (param $i i32) (param $end i32) (param $k i32) (local $kv v128)
 *       (local.set $kv (i32x4.splat (local.get $k)))
 *       (block (loop
 *         (br_if 1 (i32.ge_u (local.get $i) (local.get $end)))
 *         ;; four times: 64 bytes a round, so up to 63 bytes past $end are XORed too;
 *         ;; they are scratch, never copied out
 *         (v128.store (local.get $i) (v128.xor (v128.load (local.get $i)) (local.get $kv)))
 *         (local.set $i (i32.add (local.get $i) (i32.const 16)))
 *         ...
 *         (br 0))))
 */
const XOR_16_BYTES = [
  0x20, 0x00, 0x20, 0x00, 0xfd, 0x00, 0x04, 0x00, // local.get $i, local.get $i, v128.load (unaligned is allowed)
  0x20, 0x03, 0xfd, 0x51, 0xfd, 0x0b, 0x04, 0x00, // local.get $kv, v128.xor, v128.store
  0x20, 0x00, 0x41, 0x10, 0x6a, 0x21, 0x00, //       $i += 16
];
const BODY = [
  0x01, 0x01, 0x7b, //                               locals: 1 v128 ($kv)
  0x20, 0x02, 0xfd, 0x11, 0x21, 0x03, //             $kv = i32x4.splat($k)
  0x02, 0x40, 0x03, 0x40, //                         block, loop
  0x20, 0x00, 0x20, 0x01, 0x4f, 0x0d, 0x01, //       br_if 1 ($i >= $end)
  ...XOR_16_BYTES, ...XOR_16_BYTES, ...XOR_16_BYTES, ...XOR_16_BYTES,
  0x0c, 0x00, 0x0b, 0x0b, 0x0b, //                   br 0, end loop, end block, end func
];
const MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x07, 0x01, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x00, // types: (i32, i32, i32) -> ()
  0x03, 0x02, 0x01, 0x00, //                         functions: one of type 0
  0x05, 0x03, 0x01, 0x00, 0x02, //                   memory: min 2 pages
  0x07, 0x09, 0x02, 0x01, 0x6d, 0x02, 0x00, 0x01, 0x78, 0x00, 0x00, // exports: "m" memory 0, "x" func 0
  0x0a, BODY.length + 2, 0x01, BODY.length, ...BODY, // code (both sizes fit one LEB128 byte)
]);

interface Kernel {
  readonly memory: Uint8Array;
  readonly xor: (start: number, end: number, keyWord: number) => void;
}

/** The kernel once compiled; `null` where this engine cannot run it; `undefined` before the first use. */
let kernel: Kernel | null | undefined;
let disabled = false;

function compile(): Kernel | null {
  const wasm = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
  if (wasm === undefined) return null;
  try {
    // Synchronous compilation: browsers allow it on the main thread for modules this small.
    const instance = new wasm.Instance(new wasm.Module(MODULE));
    const exports = instance.exports as { m: WebAssembly.Memory; x: Kernel['xor'] };
    return { memory: new Uint8Array(exports.m.buffer), xor: exports.x };
  } catch {
    return null; // no SIMD (or no WebAssembly allowed here): JavaScript masks
  }
}

function getKernel(): Kernel | null {
  if (disabled) return null;
  if (kernel === undefined) kernel = compile();
  return kernel;
}

/** Whether the SIMD kernel runs here (for tests and the codec bench). */
export function simdMaskAvailable(): boolean {
  return getKernel() !== null;
}

/** @internal Turns the kernel off (or back on), so that tests reach the JavaScript loop on any engine. */
export function setSimdMaskEnabled(enabled: boolean): void {
  disabled = !enabled;
}

/**
 * Where in the kernel's memory a slice bound for `byteOffset` of its buffer goes: half a page
 * away from it, address-wise. Copying between two addresses that agree in their low 12 bits
 * (or nearly) makes every load wait for an unrelated store (4K aliasing): a slice copied from
 * offset 0 of the kernel's memory into a large message buffer (page-aligned allocations,
 * payload at a small offset after the frame header) moved 2 GB/s instead of 13. Allocations
 * are assumed page-aligned; when one is not, the distance is as good as any.
 */
function scratchStart(byteOffset: number): number {
  return 2048 + (byteOffset & 4095);
}

/**
 * XORs `data` in place with the little-endian 32-bit `keyWord` (the mask key rotated so that
 * its first byte is the one for `data[0]`). Returns false, doing nothing, where the kernel
 * cannot run. Each slice is copied into the kernel's memory, XORed and copied back: two
 * copies at memory speed are cheaper than masking it in JavaScript.
 */
export function simdMaskInPlace(data: Uint8Array, keyWord: number): boolean {
  return simdMaskInto(data, keyWord, data, 0);
}

/**
 * Writes `data` XORed with `keyWord` into `target` at `offset`, leaving `data` as it is unless
 * it is `target` itself: one copy fewer than masking in place and then copying (how a message
 * is collected). Returns false, doing nothing, where the kernel cannot run.
 */
export function simdMaskInto(data: Uint8Array, keyWord: number, target: Uint8Array, offset: number): boolean {
  const k = getKernel();
  if (k === null) return false;
  const n = data.length;
  const mem = k.memory;
  for (let at = 0; at < n; at += SIMD_SLICE) {
    // Whole slices keep the key word's rotation: SIMD_SLICE is a multiple of 4.
    const len = Math.min(SIMD_SLICE, n - at);
    const s = scratchStart(target.byteOffset + offset + at);
    mem.set(data.subarray(at, at + len), s);
    k.xor(s, s + len, keyWord);
    target.set(mem.subarray(s, s + len), offset + at);
  }
  return true;
}
