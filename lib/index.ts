// Entry `websocket-streams`: the runtime-neutral public API. No `node:` import may reach here.
export * from './codec/constants';
export * from './codec/violation';
export type { FrameHeader } from './codec/frame-header';
export type { ExtensionOffer, Extension, ExtensionFactory, PayloadTransform, PayloadSink } from './protocol/extension';
// permessage-deflate (RFC 7692): the extension, runtime-neutral; engines come from adapters
export { PerMessageDeflate, DeflateExtension } from './extensions/permessage-deflate/permessage-deflate';
export type { PerMessageDeflateOptions, DeflateAgreement } from './extensions/permessage-deflate/params';
export type { DeflateEngine, RawCodec, CodecSink, DeflaterOptions } from './extensions/permessage-deflate/deflate-engine';
export type { ByteTransport, TransportSink } from './streams/byte-transport';
export type { ConnectionOptions, ConnectionInit, HandshakeInfo } from './streams/connection-init';
export type { Clock } from './streams/clock';
// Layer 2: the sans-I/O protocol
export { Protocol, InvalidStateError, type ProtocolOptions } from './protocol/protocol';
export type { ProtocolEvent } from './protocol/events';
export { ReadyState } from './protocol/state';
export { DEFAULT_OPTIONS } from './streams/connection-options';
// Layer 3: the stream tier
export { Connection } from './streams/connection';
export { IncomingMessage } from './streams/incoming-message';
export { IncomingFrame } from './streams/incoming-frame';
export { MessageWriter, type FrameOptions } from './streams/message-writer';
export { WebSocketError, type CloseInfo, type CloseEndedBy, type WebSocketErrorKind, type WebSocketErrorInit } from './streams/errors';
export type { BinaryData, OutgoingData, OutgoingMessage, SendOptions } from './streams/outgoing';
export { WebStreamTransport } from './streams/web-stream-transport';
export { ReadableStream, WritableStream, TransformStream, usingPonyfill } from './streams/stream-classes';
// Opening handshake (sans-I/O)
export { HandshakeError, type HandshakeErrorKind } from './handshake/errors';
export { generateKey, computeAccept, isValidKey, WEBSOCKET_GUID } from './handshake/accept-key';
export {
  parseExtensions, serializeExtensions, parseTokenList, hasToken, isToken, type HeaderMap, type HeaderValue,
} from './handshake/header-values';
export {
  validateUpgradeRequest, negotiateExtensions, buildAcceptResponse, buildRejectionResponse,
  type UpgradeRequest, type HandshakeRejection, type NegotiatedExtensions, type ResponseHeaders,
} from './handshake/server-handshake';
export {
  parseWebSocketUrl, buildClientRequest, validateServerResponse,
  type ClientRequest, type ClientRequestOptions, type ClientHandshakeResult,
} from './handshake/client-handshake';
// Layer 1: the codec
export { FrameParser, type ParserEvent, type FrameParserOptions } from './codec/frame-parser';
export { headerSize, encodeFrameHeader, checkFrameLength, MAX_FRAME_LENGTH, type FrameLength } from './codec/frame-header';
export { maskInPlace, createMaskKey } from './codec/mask';
export { Utf8Validator, isValidUtf8 } from './codec/utf8-validator';
export { isValidWireCloseCode, isSendableCloseCode, describeCloseCode } from './codec/close-codes';
export { parseClosePayload, encodeClosePayload, type ClosePayload } from './codec/close-payload';
export { ByteQueue } from './codec/byte-queue';
export { FrameEncoder, type FrameEncoderOptions } from './protocol/frame-encoder';
// Layer 4: Autobahn's WebSocketProtocol API as collectors over the stream tier
export { WebSocketProtocol, type CallbackResult } from './tiers/websocket-protocol';
export { WebSocketServerProtocol } from './tiers/server-protocol';
export { WebSocketClientProtocol } from './tiers/client-protocol';
export { ConnectionDeny, type ConnectionRequest, type ConnectionResponse, type ConnectionAccept } from './tiers/types';
