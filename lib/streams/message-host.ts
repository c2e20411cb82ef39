import type { UnsafeAllocator } from './growable-buffer';

/**
 * What an incoming message or frame needs from its connection: a way to say "a consumer
 * wants data now". Kept this small so messages never reach into the connection.
 */
export interface MessageHost {
  /** A consumer is ready for more: resume parsing (coalesced; never re-entrant). */
  demand(): void;
  /** The runtime's unzeroed allocator for collectors (`bytes()`), if it has one. */
  readonly allocUnsafe: UnsafeAllocator | undefined;
}
