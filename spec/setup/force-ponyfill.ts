// Runs before every test file of the "ponyfill" jest project: removes the runtime's own
// WHATWG stream classes, then supplies web-streams-polyfill's through useStreamClasses(),
// exactly as a user of a runtime without them would. (Setup files share the test file's
// module registry, so this is the stream-classes module the library under test loads.)
import * as ponyfill from 'web-streams-polyfill';
import { useStreamClasses } from '../../lib/streams/stream-classes';

const g = globalThis as Record<string, unknown>;
for (const name of [
  'ReadableStream', 'WritableStream', 'TransformStream',
  'ReadableStreamDefaultReader', 'ReadableStreamBYOBReader', 'ReadableByteStreamController',
  'ReadableStreamDefaultController', 'WritableStreamDefaultWriter', 'WritableStreamDefaultController',
  'TransformStreamDefaultController', 'ByteLengthQueuingStrategy', 'CountQueuingStrategy',
]) {
  delete g[name];
}
useStreamClasses({
  ReadableStream: ponyfill.ReadableStream,
  WritableStream: ponyfill.WritableStream,
  TransformStream: ponyfill.TransformStream,
});
g.__WEBSOCKET_STREAMS_PONYFILL_FORCED__ = true;
