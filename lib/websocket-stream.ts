// Entry `websocket-streams/websocket-stream`: the WHATWG WebSocketStream over a Connection,
// runtime-neutral (a view of an open Connection, or dialed by a `WebSocketDialer` you pass).
// Its own entry so that the root entry's browser bundle does not carry it. In Node,
// `websocket-streams/node` exports a WebSocketStream that dials URLs with connect().

export {
  WebSocketStream, type WebSocketStreamOptions, type WebSocketOpenInfo, type WebSocketCloseInfo,
  type WebSocketStreamChunk, type WebSocketDialer,
} from './streams/websocket-stream';
export { WebSocketError, type WebSocketErrorInit, type WebSocketErrorKind } from './streams/errors';
