// A tiny extension factory for negotiation tests: permessage-deflate belongs to another module.
import type { Extension, ExtensionFactory, ExtensionOffer } from '../../lib/protocol/extension';

export interface FakeExtension extends Extension {
  readonly params: ExtensionOffer['params'];
  closed: boolean;
}

export function fakeExtension(name: string, rsvBits: number, params: ExtensionOffer['params'] = []): FakeExtension {
  return {
    name,
    rsvBits,
    params,
    closed: false,
    checkIncomingFrame: () => undefined,
    createDecoder: () => undefined,
    createEncoder: () => undefined,
    close() {
      this.closed = true;
    },
  };
}

/**
 * Offers `name; mode=<offer>`; accepts the first offer whose `mode` is in `acceptModes`,
 * answering `name; mode=<that>`; completes any response whose `mode` is not `bad`.
 */
export class FakeFactory implements ExtensionFactory {
  readonly made: FakeExtension[] = [];
  readonly seenOffers: Array<readonly ExtensionOffer[]> = [];
  readonly seenResponses: ExtensionOffer[] = [];

  constructor(
    readonly name: string,
    readonly rsvBits = 0b100,
    readonly offers: ExtensionOffer[] = [{ name, params: [['mode', 'a']] }],
    readonly acceptModes: readonly string[] = ['a'],
  ) {}

  offer(): ExtensionOffer[] {
    return this.offers;
  }

  accept(offers: readonly ExtensionOffer[]): { response: ExtensionOffer; extension: Extension } | undefined {
    this.seenOffers.push(offers);
    for (const o of offers) {
      const mode = o.params.find(([k]) => k === 'mode')?.[1];
      if (typeof mode === 'string' && this.acceptModes.includes(mode)) {
        const ext = fakeExtension(this.name, this.rsvBits, o.params);
        this.made.push(ext);
        return { response: { name: this.name, params: [['mode', mode]] }, extension: ext };
      }
    }
    return undefined;
  }

  complete(response: ExtensionOffer): Extension {
    this.seenResponses.push(response);
    const mode = response.params.find(([k]) => k === 'mode')?.[1];
    if (mode === 'bad') throw new Error(`mode=bad is not acceptable`);
    const ext = fakeExtension(this.name, this.rsvBits, response.params);
    this.made.push(ext);
    return ext;
  }
}
