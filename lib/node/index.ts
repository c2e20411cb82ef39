// Entry `websocket-streams/node`: the core plus the Node adapters.
export * from '../index';
