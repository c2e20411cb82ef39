// Runs before every test file of the "ponyfill" jest project: removes the runtime's own
// WHATWG stream classes so that lib/streams/stream-classes.ts has to take them from
// web-streams-polyfill, exactly as it would in a runtime without them.
const g = globalThis as Record<string, unknown>;
for (const name of [
  'ReadableStream', 'WritableStream', 'TransformStream',
  'ReadableStreamDefaultReader', 'ReadableStreamBYOBReader', 'ReadableByteStreamController',
  'ReadableStreamDefaultController', 'WritableStreamDefaultWriter', 'WritableStreamDefaultController',
  'TransformStreamDefaultController', 'ByteLengthQueuingStrategy', 'CountQueuingStrategy',
]) {
  delete g[name];
}
g.__WEBSOCKET_STREAMS_PONYFILL_FORCED__ = true;
