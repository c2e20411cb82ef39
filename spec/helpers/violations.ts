// Protocol violations a peer can commit right behind complete messages, as raw frames, with the
// close code each one must be failed with (RFC 6455 §5.2, §5.4, §5.5, §8.1), and what an
// endpoint that echoes every message must be seen to send in answer: the echoes first, then
// the close frame.
import { concat } from './connection-pair';
import { framesOf, frameFrom, type Role } from './wire';

export interface Violation {
  /** What the peer does wrong. */
  name: string;
  /** The close code it must be failed with. */
  code: number;
  /** The offending frames as a peer of role `sender` would send them. */
  frames(sender: Role): Uint8Array;
  /** Only this role of the side under test can see it (masking rules differ by direction). */
  only?: Role;
}

export const VIOLATIONS: readonly Violation[] = [
  { name: 'a frame with RSV1 (0x40) set', code: 1002, frames: (s) => frameFrom(s, 1, 'rsv', { rsv: 4 }) },
  { name: 'a frame with RSV2 (0x20) set', code: 1002, frames: (s) => frameFrom(s, 2, 'rsv', { rsv: 2 }) },
  { name: 'a frame with RSV3 (0x10) set', code: 1002, frames: (s) => frameFrom(s, 1, 'rsv', { rsv: 1 }) },
  { name: 'a frame with reserved data opcode 0x3', code: 1002, frames: (s) => frameFrom(s, 0x3, 'op') },
  { name: 'a frame with reserved control opcode 0xB', code: 1002, frames: (s) => frameFrom(s, 0xb, 'op') },
  { name: 'a continuation frame with no message begun', code: 1002, frames: (s) => frameFrom(s, 0x0, 'cont') },
  { name: 'an unmasked frame from the client', code: 1002, frames: () => frameFrom('client', 1, 'bare', { masked: false }), only: 'server' },
  { name: 'a masked frame from the server', code: 1002, frames: () => frameFrom('server', 1, 'masked', { masked: true }), only: 'client' },
  { name: 'a text message that is not UTF-8', code: 1007, frames: (s) => frameFrom(s, 1, new Uint8Array([0x61, 0xff, 0x62])) },
  {
    name: 'a text message whose second frame breaks UTF-8',
    code: 1007,
    frames: (s) => concat([frameFrom(s, 1, 'ok ', { fin: false }), frameFrom(s, 0, new Uint8Array([0xc3, 0x28]))]),
  },
];

/** The violations the side under test of `role` can be sent. */
export const violationsFor = (role: Role): Violation[] => VIOLATIONS.filter((v) => v.only === undefined || v.only === role);

/**
 * One chunk: two complete messages (the second in two frames), then the violation. What an
 * echoing endpoint must send for it is `EXPECTED_ECHOES` then `close:<code>`.
 */
export function messagesThenViolation(sender: Role, v: Violation): Uint8Array {
  return concat([
    frameFrom(sender, 1, 'first message'),
    frameFrom(sender, 2, 'second ', { fin: false }), frameFrom(sender, 0, 'message'),
    v.frames(sender),
  ]);
}
export const EXPECTED_ECHOES = ['text:first message', 'binary:second message'];

/**
 * What an endpoint sent, as whole messages and control frames in wire order: data frames joined
 * into `text:…`/`binary:…`, then `close:<code>`, `ping:…`, `pong:…`.
 */
export function sentInOrder(bytes: Uint8Array | readonly Uint8Array[]): string[] {
  const out: string[] = [];
  let open: { type: string; text: string } | undefined;
  for (const f of framesOf(bytes)) {
    if (f.opcode === 1 || f.opcode === 2 || f.opcode === 0) {
      if (f.opcode !== 0) open = { type: f.opcode === 1 ? 'text' : 'binary', text: '' };
      open!.text += f.text;
      if (f.fin) {
        out.push(`${open!.type}:${open!.text}`);
        open = undefined;
      }
    } else if (f.opcode === 8) out.push(`close:${f.code ?? ''}`);
    else if (f.opcode === 9) out.push(`ping:${f.text}`);
    else if (f.opcode === 10) out.push(`pong:${f.text}`);
    else out.push(`op${f.opcode}:${f.text}`);
  }
  return out;
}
