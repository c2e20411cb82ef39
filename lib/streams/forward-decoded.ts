// Sends a message an extension decoded (inflated) through a writer, re-framed: its decoded
// frames have no length known in advance. No stream objects: an echo of small compressed
// messages is the hot path of a deflate server.
import { GrowableBuffer } from './growable-buffer';
import type { IncomingMessage } from './incoming-message';
import type { MessageWriter } from './message-writer';

/**
 * Largest frame made of a decoded message. Each frame costs the encoder a flush and the decoder
 * a pause; 256 KiB halves the CPU per 1 MiB message against 64 KiB (bench deflate-1m) and is
 * what forwarding holds per connection at most.
 */
const FORWARD_FRAME_BYTES = 256 * 1024;

/**
 * Collects decoded bytes up to FORWARD_FRAME_BYTES a frame and sends them as they fill, the
 * last frame final. Reading waits while a frame is being sent, so memory stays bounded.
 */
export function forwardDecoded(msg: IncomingMessage, w: MessageWriter): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const pending = new GrowableBuffer(0);
    let sending = false;
    let settled = false;
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      reject(err);
    };
    const send = (bytes: Uint8Array, fin: boolean): void => {
      sending = true;
      w.sendFrame(bytes, { fin }).then(() => {
        sending = false;
        if (!fin) msg._demand();
        else if (!settled) {
          settled = true;
          resolve();
        }
      }, fail);
    };
    msg._forward({
      frameStart: () => undefined,
      data: (chunk) => {
        if (settled) return;
        // A full frame goes only once more data shows it is not the last: a message that
        // fits one frame is sent as one.
        if (pending.length > 0 && pending.length + chunk.length > FORWARD_FRAME_BYTES) {
          const full = pending.take();
          pending.append(chunk);
          send(full, false);
          return;
        }
        pending.append(chunk);
      },
      frameEnd: (fin) => {
        if (fin && !settled) send(pending.take(), true);
      },
      error: fail,
      wantsData: () => !sending,
    });
  });
}
