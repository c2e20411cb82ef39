// The page both Chromium specs load: runExchange(url, sizes) sends a text and a binary message of
// each size, one at a time, checks each echo, then closes with 4100 and reports what it saw.

/** What `runExchange` resolves with. */
export interface Exchange {
  got: Array<{ type: string; length: number; ok: boolean }>;
  code: number;
  reason: string;
  wasClean: boolean;
  extensions: string;
}

export const PAGE = `<!doctype html><meta charset="utf-8"><script>
window.runExchange = (url, sizes) => new Promise((resolve, reject) => {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  const got = [];
  let step = 0;
  const outgoing = [];
  for (const n of sizes) {
    outgoing.push('t'.repeat(n));
    const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = (i * 13) & 255; outgoing.push(b.buffer);
  }
  ws.onopen = () => ws.send(outgoing[0]);
  ws.onmessage = (e) => {
    const m = e.data;
    got.push(typeof m === 'string' ? { type: 'text', length: m.length, ok: m === outgoing[step] }
      : { type: 'binary', length: m.byteLength, ok: new Uint8Array(m).every((x, i) => x === ((i * 13) & 255)) });
    step++;
    if (step < outgoing.length) ws.send(outgoing[step]);
    else ws.close(4100, 'browser done');
  };
  ws.onclose = (e) => resolve({ got, code: e.code, reason: e.reason, wasClean: e.wasClean, extensions: ws.extensions });
  ws.onerror = () => reject(new Error('websocket error'));
});
</script>`;
