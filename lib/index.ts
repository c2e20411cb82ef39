// Entry `websocket-streams`: the runtime-neutral public API. No `node:` import may reach here.
export * from './codec/constants';
export * from './codec/violation';
export type { FrameHeader } from './codec/frame-header';
export type { ExtensionOffer, Extension, ExtensionFactory, PayloadTransform } from './protocol/extension';
export type { ByteTransport, TransportSink } from './streams/byte-transport';
export type { ConnectionOptions, ConnectionInit, HandshakeInfo } from './streams/connection-init';
