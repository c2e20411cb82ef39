import { usingPonyfill } from '../../lib/streams/stream-classes';
import { runChildReport } from '../helpers/run-child';

// Promises of ping() and of the waits that take a signal may be ignored: each rejection is
// marked handled inside the library, so a caller that never looks at it does not end the
// process with an unhandled rejection, while awaiting it still rejects. Jest keeps the real
// process's 'unhandledRejection' to itself, so the scenarios run in a child process
// (spec/helpers/ignored-waits-child.ts).

const runChild = (): Promise<{ unhandled: Record<string, string[]>; outcomes: Record<string, string> }> =>
  runChildReport('ignored-waits-child.ts');

describe(`ignored ping() and aborted waits (${usingPonyfill ? 'ponyfill' : 'native'} streams)`, () => {
  it('never leave an unhandled rejection, and still reject when awaited', async () => {
    const { unhandled, outcomes } = await runChild();
    expect(unhandled).toEqual({});
    expect(outcomes).toEqual({
      'ping() unanswered, then the connection closes': 'rejected: CLOSED',
      'ping() with a payload in flight': 'rejected: PING_IN_FLIGHT',
      'send() aborted while queued': 'rejected: abort queued send',
      'send() aborted mid-message': 'rejected: abort mid-message',
      'nextMessage() aborted': 'rejected: abort nextMessage',
      'close() aborted': 'rejected: abort close wait',
    });
  }, 60_000);
});
