// Sends a received message on through a MessageWriter using the stream objects (the path
// when the fast `Forwarding` cannot be used: compression on either side).
import { forwardDecoded } from './forward-decoded';
import type { IncomingMessage } from './incoming-message';
import type { MessageWriter } from './message-writer';

const EMPTY = new Uint8Array(0);

/** Streams a received message out frame by frame, without holding a whole frame. */
export async function forwardMessage(msg: IncomingMessage, w: MessageWriter): Promise<void> {
  if (msg.compressed) return forwardDecoded(msg, w);
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
