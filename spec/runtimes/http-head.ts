// An HTTP head off a byte stream, bounded: for the handshake over a socket of web streams, where
// no HTTP parser of the runtime is at hand (Deno.serve gives no raw socket for an upgrade), and
// for the wire tap, which steps over the head to parse the frames after it.

/** A handshake head is a few hundred bytes; past this the peer is not speaking WebSocket. */
export const MAX_HEAD = 16 * 1024;

/** An HTTP head read off a stream: its first line, headers (lower-case names), and the bytes after it. */
export interface HttpHead {
  startLine: string;
  headers: Record<string, string | string[]>;
  rest: Uint8Array;
}

/** Where the blank line ending an HTTP head starts in `bytes`, searching from about `from`; -1 if not yet there. */
export function findHeadEnd(bytes: Uint8Array, from = 0): number {
  for (let i = Math.max(0, from - 3); i + 4 <= bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  }
  return -1;
}

/** Reads up to the blank line that ends an HTTP head (RFC 9112 §2.1); the reader stays usable. */
export async function readHttpHead(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<HttpHead> {
  let buf = new Uint8Array(0);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`The peer ended the connection inside the HTTP head (${buf.length} bytes)`);
    const joined = new Uint8Array(buf.length + value.length);
    joined.set(buf);
    joined.set(value, buf.length);
    const end = findHeadEnd(joined, buf.length);
    buf = joined;
    if (end >= 0) {
      const [startLine = '', ...lines] = new TextDecoder('latin1').decode(buf.subarray(0, end)).split('\r\n');
      const headers: Record<string, string | string[]> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon <= 0) throw new Error(`Malformed header line ${JSON.stringify(line)}`);
        const name = line.slice(0, colon).toLowerCase();
        const value = line.slice(colon + 1).trim();
        const known = headers[name];
        headers[name] = known === undefined ? value : [...(Array.isArray(known) ? known : [known]), value];
      }
      return { startLine, headers, rest: buf.slice(end + 4) };
    }
    if (buf.length > MAX_HEAD) throw new Error(`No end of the HTTP head in ${buf.length} bytes`);
  }
}
