// Entry `websocket-streams/node`: the root entry plus the Node adapters (not the sans-I/O entry).
export * from '../index';
export { nodeRuntime } from './runtime';
export { SocketTransport, type SocketTransportOptions } from './socket-transport';
export {
  handleUpgrade, attach, type ServerOptions, type AttachOptions, type UpgradeRequestInfo, type UpgradeDecision,
  type WebSocketAttachment, type PathMatcher, type UpgradeContext, type AcceptedConnection, type AttachableServer,
} from './upgrade';
export { serve, type ServeOptions, type WebSocketServerHandle, type ServerOf } from './server';
export { handleExtendedConnect } from './http2-upgrade';
export { Http2StreamTransport } from './http2-stream-transport';
export { type Http2ConnectOptions } from './http2-client';
export { connect, type ClientOptions } from './client';
export { reconnect, type ReconnectOptions, type ReconnectingConnections, type RetryInfo } from './reconnect';
export { type ProxySetting } from './proxy';
export { WebSocketServerFactory, WebSocketClientFactory, listenWS, connectWS } from './autobahn';
export { zlibEngine, type ZlibEngineOptions } from './zlib-engine';
export { type PerMessageDeflateSetting } from './deflate-option';
export { WebSocketStream, type NodeWebSocketStreamOptions } from './websocket-stream';
export {
  type WebSocketStreamOptions, type WebSocketOpenInfo, type WebSocketCloseInfo, type WebSocketStreamChunk, type WebSocketDialer,
} from '../streams/websocket-stream';
