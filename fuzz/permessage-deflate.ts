// Fuzz target: permessage-deflate parameter negotiation (lib/extensions/permessage-deflate):
// a server's answer to any offer list, and a client's check of any response.
import { PerMessageDeflate, type DeflateExtension } from '../lib/extensions/permessage-deflate/permessage-deflate';
import { parseParams, type PerMessageDeflateOptions } from '../lib/extensions/permessage-deflate/params';
import { HandshakeError } from '../lib/handshake/errors';
import { parseExtensions, serializeExtensions } from '../lib/handshake/header-values';
import type { ExtensionOffer } from '../lib/protocol/extension';
import { noEngine } from './handshake';
import fc from 'fast-check';
import { extensionsInput, headerLines, headerLinesInput } from './header-text';
import { check, onlyThrows, sameOutcome, text, type FuzzTarget } from './support';

const inRange = (bits: number): boolean => Number.isInteger(bits) && bits >= 8 && bits <= 15;

/** Server options from the mode line: s, c (no context takeover), w, b (window bits). */
function serverOptions(mode: string): PerMessageDeflateOptions {
  return {
    serverNoContextTakeover: mode.includes('s'),
    clientNoContextTakeover: mode.includes('c'),
    serverMaxWindowBits: mode.includes('w') ? 9 : undefined,
    clientMaxWindowBits: mode.includes('b') ? 10 : undefined,
  };
}

/** The options of a client that would send exactly `offer` (it must be valid). */
function clientOptionsFor(offer: ExtensionOffer): PerMessageDeflateOptions {
  const p = parseParams(offer);
  check(typeof p !== 'string', 'unreachable');
  return {
    serverNoContextTakeover: p.serverNoContextTakeover,
    clientNoContextTakeover: p.clientNoContextTakeover,
    serverMaxWindowBits: p.serverMaxWindowBits,
    clientMaxWindowBits: p.clientMaxWindowBits,
  };
}

export const target: FuzzTarget = {
  name: 'permessage-deflate',
  inputs: fc.oneof({ weight: 4, arbitrary: extensionsInput }, { weight: 1, arbitrary: headerLinesInput }),
  fuzz(input: Uint8Array): void {
    const { mode, lines } = headerLines(text(input));
    const parsed = onlyThrows('parseExtensions', () => parseExtensions(lines.get('sec-websocket-extensions')), HandshakeError);
    if (parsed instanceof Error) return;
    const offers = parsed.filter((o) => o.name === 'permessage-deflate');

    // Server: never throws; declines invalid offers; accepts the first valid one.
    const server = new PerMessageDeflate(noEngine, serverOptions(mode));
    const accepted = onlyThrows('PerMessageDeflate.accept', () => server.accept(offers));
    check(!(accepted instanceof Error), 'unreachable');
    const firstValid = offers.find((o) => typeof parseParams(o) !== 'string');
    check((accepted === undefined) === (firstValid === undefined), 'a valid offer declined, or an invalid one accepted');
    if (accepted !== undefined && firstValid !== undefined) {
      const ours = accepted.extension as DeflateExtension;
      const a = ours.agreement;
      check(inRange(a.localWindowBits) && inRange(a.remoteWindowBits), 'window bits out of 8–15');
      const response = accepted.response;
      check(typeof parseParams(response) !== 'string', 'the response does not pass our own parameter check');
      sameOutcome('the response serialized and parsed again', [response], parseExtensions(serializeExtensions([response])));
      // RFC 7692 §7.1: the client that sent this offer accepts the response, and both sides agree.
      const client = new PerMessageDeflate(noEngine, clientOptionsFor(firstValid));
      const theirs = onlyThrows('the offering client completing the response', () => client.complete(response)) as DeflateExtension;
      const b = theirs.agreement;
      sameOutcome('the two sides\' agreements', [a.localNoContextTakeover, a.remoteNoContextTakeover, a.localWindowBits, a.remoteWindowBits],
        [b.remoteNoContextTakeover, b.localNoContextTakeover, b.remoteWindowBits, b.localWindowBits]);
      const p = parseParams(firstValid);
      if (typeof p !== 'string' && p.serverMaxWindowBits !== undefined) check(a.localWindowBits <= p.serverMaxWindowBits, 'the server compresses with a wider window than asked');
      ours.close();
      theirs.close();
    }

    // Client: any response entry completes or is refused with a plain Error saying why.
    const client = new PerMessageDeflate(noEngine, serverOptions(mode));
    for (const entry of offers) {
      const r = onlyThrows('PerMessageDeflate.complete', () => client.complete(entry), Error);
      if (r instanceof Error) {
        check(!(r instanceof TypeError || r instanceof RangeError) && r.message.length > 0, `complete threw ${r.name}: ${r.message}`);
      } else {
        const ag = (r as DeflateExtension).agreement;
        check(inRange(ag.localWindowBits) && inRange(ag.remoteWindowBits), 'window bits out of 8–15');
        r.close();
      }
    }
  },
};
