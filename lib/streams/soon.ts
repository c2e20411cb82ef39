// One microtask for everything that must run "right after this": pipes resuming, inbounds
// reading ahead. A reaction on a settled promise (node's queueMicrotask costs an AsyncResource
// and a bind), and no closure per item.

/** Something run in the next microtask by `soon`. */
export interface Soon {
  /** @internal */
  _soon(): void;
}

const resolved = Promise.resolve();
let queue: Soon[] = [];

function runAll(): void {
  const list = queue;
  queue = [];
  for (let i = 0; i < list.length; i++) list[i]!._soon();
}

/** Calls `item._soon()` in the next microtask, in the order asked. */
export function soon(item: Soon): void {
  if (queue.push(item) === 1) void resolved.then(runAll);
}
