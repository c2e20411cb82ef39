// Entry `websocket-streams`: the runtime-neutral public API of the stream tier and the
// Autobahn tier, and what an adapter for another runtime plugs in (a transport, a deflate
// engine, the runtime's fast paths). No `node:` import may reach here. The sans-I/O building
// blocks (Protocol, codec, handshake functions) are the `websocket-streams/sans-io` entry.

// The stream tier
export { Connection, type NextMessageOptions, type CloseOptions } from './streams/connection';
export { type MessageIteratorOptions } from './streams/message-iterator';
export { IncomingMessage } from './streams/incoming-message';
export { IncomingFrame } from './streams/incoming-frame';
export { MessageWriter, type FrameOptions } from './streams/message-writer';
export type { BinaryData, OutgoingData, OutgoingMessage, SendOptions } from './streams/outgoing';
// The surface `Connection` shares with the browser entry's `BrowserConnection` (types only)
export type {
  StreamConnection, StreamMessage, StreamFrame, StreamOutgoing, StreamSendOptions, StreamWaitOptions,
} from './streams/stream-surface';
export { broadcast, type BroadcastOptions, type BroadcastResult } from './streams/broadcast';
export type { FrameLength } from './codec/frame-header';
export { ReadyState } from './protocol/state';
export { CloseCode, Opcode } from './codec/constants';
export { describeCloseCode } from './codec/close-codes';
export { DEFAULT_OPTIONS } from './streams/connection-options';
export type { ConnectionOptions, ConnectionInit, HandshakeInfo, RuntimeHooks } from './streams/connection-init';
export type { ProtocolLimits } from './protocol/limits';
export type { Clock } from './streams/clock';
// Errors and how a connection ended
export {
  WebSocketError, type WebSocketErrorKind, type WebSocketErrorInit, type CloseInfo, type CloseEndedBy,
} from './streams/errors';
export type { ViolationKind } from './codec/violation';
export { InvalidStateError } from './protocol/protocol';
export { HandshakeError, type HandshakeErrorKind } from './handshake/errors';
// For adapters to other runtimes: the transport, the runtime's fast paths, the deflate engine
export type { ByteTransport, TransportSink } from './streams/byte-transport';
export { WebStreamTransport, type WebStreamTransportOptions } from './streams/web-stream-transport';
export { useStreamClasses, type StreamClasses } from './streams/stream-classes';
export type { NativeUtf8Check } from './codec/utf8-validator';
export type { UnsafeAllocator } from './streams/growable-buffer';
export { PerMessageDeflate } from './extensions/permessage-deflate/permessage-deflate';
export type { PerMessageDeflateOptions, DeflateAgreement } from './extensions/permessage-deflate/params';
export type { DeflateEngine, RawCodec, CodecSink, DeflaterOptions } from './extensions/permessage-deflate/deflate-engine';
// The Autobahn tier: Autobahn's WebSocketProtocol API as collectors over the stream tier
export { WebSocketProtocol, type CallbackResult } from './tiers/websocket-protocol';
export { WebSocketServerProtocol } from './tiers/server-protocol';
export { WebSocketClientProtocol } from './tiers/client-protocol';
export { ConnectionDeny, type ConnectionRequest, type ConnectionResponse, type ConnectionAccept } from './tiers/types';
