import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// What a server connection keeps once it has echoed one message: the state that stays for
// its lifetime (no closures, contexts or object literals built per connection by the send,
// forward and message paths). Measured in a fresh process (spec/helpers/echo-memory-child.ts)
// as the heap per connection over 2 000 connections, less the test's own transport stubs.

const helpers = join(__dirname, '..', 'helpers');

function heapPerConnection(mode: 'pipe' | 'send', streams: 'native' | 'ponyfill'): number {
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '-r', join(helpers, 'register-ts.cjs'), join(helpers, 'echo-memory-child.ts'), mode, streams],
    { encoding: 'utf8', timeout: 50_000 },
  );
  if (r.status !== 0) throw new Error(`child failed (${r.status ?? r.signal}): ${r.stderr}`);
  return (JSON.parse(r.stdout) as { bytes: number }).bytes;
}

describe('What a connection keeps after echoing one message', () => {
  it.each(['native', 'ponyfill'] as const)('holds at most 2.5 KiB of JS heap, echoing with readable.pipeTo(writable) (%s streams)', (streams) => {
    expect(heapPerConnection('pipe', streams)).toBeLessThanOrEqual(2.5 * 1024);
  });

  it('holds at most 2.5 KiB of JS heap, echoing with nextMessage() and send()', () => {
    expect(heapPerConnection('send', 'native')).toBeLessThanOrEqual(2.5 * 1024);
  });
});
