// Sends a received message through a MessageWriter, with stream objects: what
// `send(IncomingMessage)` does when the message cannot go on as it came (this connection
// compresses what it sends, or the message is sent as the other type). An uncompressed message
// sent as it came takes `Forwarding` instead; a compressed one is re-framed by `forwardDecoded`.
import { subtractLength, type FrameLength } from '../codec/frame-header';
import { incompleteUtf8Tail, utf8TailCopy } from '../codec/utf8-tail';
import { forwardDecoded } from './forward-decoded';
import type { IncomingMessage } from './incoming-message';
import type { MessageWriter } from './message-writer';

const EMPTY = new Uint8Array(0);
const FINAL = { fin: true } as const;
const MORE = { fin: false } as const;

/**
 * Streams a received message out frame by frame, without holding a whole frame. Text sent as
 * text is re-framed on code point boundaries (see `forwardText`); anything else keeps its
 * frames, each begun with its length (a frame left open because the source failed is ended by
 * the connection: it ends TCP, as it does for any `beginFrame()` frame it cannot finish).
 */
export async function forwardMessage(msg: IncomingMessage, w: MessageWriter): Promise<void> {
  if (msg.compressed) return forwardDecoded(msg, w);
  if (msg.type === 'text' && w.type === 'text') return forwardText(msg, w);
  const frames = msg.frames.getReader();
  for (;;) {
    const { done, value: frame } = await frames.read();
    if (done) break;
    if (frame.length === 0) {
      await w.sendFrame(EMPTY, { fin: frame.fin });
      continue;
    }
    const out = w.beginFrame(frame.length, { fin: frame.fin });
    await frame.data.pipeTo(out);
  }
  if (!w.ended) await w.end();
}

/**
 * A text message, piece by piece as its bytes arrive, each piece a whole frame of complete
 * code points: an incomplete sequence at a piece's end (at most 3 bytes, valid so far) is
 * held back for the next piece, and the final frame goes only with the piece that completes
 * the message's last code point, or once the message has passed its end check (RFC 6455
 * §8.1: no text that may still turn out invalid is sent as a complete message). A failure of
 * the source then always finds the writer between frames, where a close frame may go.
 */
async function forwardText(msg: IncomingMessage, w: MessageWriter): Promise<void> {
  const frames = msg.frames.getReader();
  let carry: Uint8Array | undefined;
  for (;;) {
    const { done, value: frame } = await frames.read();
    if (done) break;
    if (frame.length === 0) {
      // An empty fragment goes on as it came; an empty final frame waits for the end check.
      if (!frame.fin) await w.sendFrame(EMPTY, MORE);
      continue;
    }
    const data = frame.data.getReader();
    let remaining: FrameLength = frame.length;
    for (;;) {
      const { done: ended, value: chunk } = await data.read();
      if (ended) break;
      remaining = subtractLength(remaining, chunk.length);
      const n = chunk.length;
      const tail = incompleteUtf8Tail(chunk, carry);
      const before = carry;
      carry = utf8TailCopy(chunk, before, tail);
      if (tail >= n) continue; // the chunk only added to what is held back
      const piece = join(before, tail === 0 ? chunk : chunk.subarray(0, n - tail));
      await w.sendFrame(piece, tail === 0 && frame.fin && remaining === 0 ? FINAL : MORE);
    }
  }
  // The message passed its end check: what is held back (nothing, as it passed) ends it.
  if (w.ended) return;
  if (carry !== undefined) await w.sendFrame(carry, FINAL);
  else await w.end();
}

function join(before: Uint8Array | undefined, bytes: Uint8Array): Uint8Array {
  if (before === undefined) return bytes;
  const out = new Uint8Array(before.length + bytes.length);
  out.set(before, 0);
  out.set(bytes, before.length);
  return out;
}
