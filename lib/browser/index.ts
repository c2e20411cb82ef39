// Entry `websocket-streams/browser`: the stream tier's surface over the browser's own
// WebSocket API (WebSocketStream where the browser has it, else WebSocket). It carries no
// protocol code of ours: the browser speaks RFC 6455; what this adds is the stream tier's
// shape, its limits and its errors. No `node:` import may reach here.

export { connect } from './connect';
export { BrowserConnection } from './browser-connection';
export { BrowserMessage } from './browser-message';
export { BROWSER_DEFAULTS, type BrowserConnectOptions } from './browser-options';
export type { BrowserOutgoing } from './outgoing-payload';
// The shared surface: write a function once for `Connection` and `BrowserConnection`
export type {
  StreamConnection, StreamMessage, StreamFrame, StreamOutgoing, StreamSendOptions, StreamWaitOptions,
} from '../streams/stream-surface';
export type { BinaryData } from '../streams/outgoing';
export type { FrameLength } from '../codec/frame-header';
export type { MessageIteratorOptions } from '../streams/message-iterator';
// Errors and how a connection ended, as the other entries have them
export {
  WebSocketError, type WebSocketErrorKind, type WebSocketErrorInit, type CloseInfo, type CloseEndedBy,
} from '../streams/errors';
export type { ViolationKind } from '../codec/violation';
export { InvalidStateError } from '../protocol/invalid-state-error';
export { HandshakeError, type HandshakeErrorKind } from '../handshake/errors';
export { ReadyState } from '../protocol/state';
export { CloseCode } from '../codec/constants';
