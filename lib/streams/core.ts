// What the parts of a connection (inbound, outbound, stream facade, heartbeat) need from the
// connection that owns them and its lifecycle. A type only: the parts never import Connection.
import type { ProtocolViolation } from '../codec/violation';
import type { Extension } from '../protocol/extension';
import type { ResolvedOptions } from './connection-options';
import type { Protocol } from '../protocol/protocol';
import type { ByteTransport } from './byte-transport';
import type { WebSocketError } from './errors';
import type { RuntimeHooks } from './connection-init';

/**
 * The connection as its parts see it. Everything here is internal (`Connection` implements it
 * with members tagged internal); users see only the public API.
 */
export interface ConnectionCore {
  readonly role: 'client' | 'server';
  /** Reported for every ping received, pong received and reserved control frame. */
  onPing: ((data: Uint8Array) => void) | undefined;
  onPong: ((data: Uint8Array) => void) | undefined;
  onControlFrame: ((opcode: number, rsv: number, data: Uint8Array) => void) | undefined;
  /** @internal A pong arrived (answers awaited pings, then goes to `onPong`). */
  _pongReceived(data: Uint8Array): void;
  /** @internal The connection is over: the transport closed and `closed` settled (or is settling). */
  readonly _finalized: boolean;
  /** @internal Why pending sends and reads fail now. */
  _lostError(): WebSocketError;
  /** @internal We fail the connection for `violation` (its close frame is in the protocol's output). */
  _failed(violation: ProtocolViolation): void;
  /** @internal Fails the connection locally (an extension or a forwarded message broke). */
  _failLocally(code: number, reason: string): void;
  /** @internal The peer's close frame was received (the echo, if owed, is in the protocol's output). */
  _peerClosed(): void;
  /** @internal Control frames were written: the close handshake may have progressed. */
  _controlWritten(): void;
  /** @internal A frame already announced can never be completed: end TCP, sending nothing more. */
  _abandonWire(reason: Error): void;
  /** @internal Input is over and nothing parseable is left. */
  _inputOver(): void;
  /** @internal The inbound part is done with everything queued before the end: extensions may close. */
  _inboundOver(): void;
  /** @internal Writes the control frames the protocol owes, unless held back. */
  _flushControl(): void;
  /** @internal The inbound part holds a failure back until the messages before it are read. */
  readonly _controlHeld: boolean;
  /** @internal The outbound part is above its mark, or a frame is half sent. */
  readonly _writeBehind: boolean;
}

/** The shared pieces every part is made with. */
export interface ConnectionParts {
  readonly core: ConnectionCore;
  readonly protocol: Protocol;
  readonly transport: ByteTransport;
  readonly opts: ResolvedOptions;
  readonly extensions: readonly Extension[];
  readonly runtime: RuntimeHooks;
}
