import { isUtf8 } from 'node:buffer';
import type { RuntimeHooks } from '../streams/connection-init';
import { unzeroedBytes } from './unzeroed';

/**
 * Node's fast paths, passed with every connection the Node adapters make (never installed
 * process-wide: importing this package changes nothing):
 * - `isUtf8`: node's native check for the complete part of large text chunks (several GB/s).
 *   On `false` the JS DFA still finds the exact first bad byte, so failing fast is unchanged.
 * - `allocUnsafe`: messages collected whole (`bytes()`, the Autobahn tier's onMessage) go into
 *   memory that is not zero-filled first: the collector writes every byte it hands out and
 *   zeroes the rest.
 */
export const nodeRuntime: RuntimeHooks = { isUtf8, allocUnsafe: unzeroedBytes };
