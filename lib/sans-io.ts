// Entry `websocket-streams/sans-io`: the sans-I/O building blocks, for bringing your own I/O.
// Nothing here touches a socket, a timer or a stream: bytes in, events and bytes out.

// The protocol after the opening handshake
export { Protocol, InvalidStateError, type ProtocolOptions } from './protocol/protocol';
export type { ProtocolEvent } from './protocol/events';
export type { ProtocolLimits } from './protocol/limits';
export { ReadyState } from './protocol/state';
export { ProtocolViolation, type ViolationKind } from './codec/violation';
export { Opcode, CloseCode, Rsv, HeaderBits, isControlOpcode, MAX_CONTROL_PAYLOAD, MAX_CLOSE_REASON_BYTES } from './codec/constants';
// Frames
export { FrameParser, type ParserEvent, type FrameParserOptions } from './codec/frame-parser';
export { FrameEncoder, type FrameEncoderOptions } from './protocol/frame-encoder';
export {
  headerSize, encodeFrameHeader, checkFrameLength, MAX_FRAME_LENGTH, type FrameLength, type FrameHeader,
} from './codec/frame-header';
export { maskInPlace, createMaskKey } from './codec/mask';
// Text and close frames
export { Utf8Validator, isValidUtf8, type NativeUtf8Check } from './codec/utf8-validator';
export { isValidWireCloseCode, isSendableCloseCode } from './codec/close-codes';
export { parseClosePayload, encodeClosePayload, type ClosePayload } from './codec/close-payload';
// Extensions (RFC 6455 §9): the interfaces, and permessage-deflate's negotiated extension
export type { ExtensionOffer, Extension, ExtensionFactory, PayloadTransform, PayloadSink } from './protocol/extension';
export { DeflateExtension } from './extensions/permessage-deflate/permessage-deflate';
// The opening handshake
export { HandshakeError, type HandshakeErrorKind } from './handshake/errors';
export { generateKey, computeAccept, isValidKey, WEBSOCKET_GUID } from './handshake/accept-key';
export {
  parseExtensions, serializeExtensions, parseTokenList, hasToken, isToken, type HeaderMap, type HeaderValue,
} from './handshake/header-values';
export {
  validateUpgradeRequest, validateWebSocketOffer, negotiateExtensions, buildAcceptResponse, buildRejectionResponse,
  type UpgradeRequest, type WebSocketOffer, type HandshakeRejection, type NegotiatedExtensions, type ResponseHeaders,
} from './handshake/server-handshake';
export {
  parseWebSocketUrl, buildClientRequest, validateServerResponse,
  type ClientRequest, type ClientRequestOptions, type ClientHandshakeResult,
} from './handshake/client-handshake';
export { buildExtendedConnectHeaders, validateExtendedConnect, validateExtendedConnectResponse } from './handshake/extended-connect';
