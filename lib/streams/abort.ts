/**
 * Runs `fn` once when `signal` aborts; returns what stops listening. Every wait that takes a
 * signal removes its listener when it settles, so one long-lived signal passed to many calls
 * (a server's shutdown signal) does not collect a listener per call.
 */
export function whenAborted(signal: AbortSignal, fn: () => void): () => void {
  signal.addEventListener('abort', fn, { once: true });
  return () => signal.removeEventListener('abort', fn);
}

/**
 * `p`, its rejection marked handled, as WHATWG streams do for their internal promises: a wait
 * the caller abandoned (an aborted `nextMessage()` nobody awaits), or
 * `for (const c of conns) void c.send(x)` with one peer gone, must not end the process with an
 * unhandled rejection. Awaiting it still throws; a connection's loss is reported by `closed`.
 */
export function markHandled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** A promise already rejected with `reason`, marked handled (awaiting it still throws). */
export function rejectedWith<T>(reason: unknown): Promise<T> {
  return markHandled(Promise.reject(reason) as Promise<T>);
}

/**
 * `p`, or a rejection with `signal.reason` if the signal aborts first while `abortable()` says
 * the wait may still stop; the listener goes once `p` settles. Marked handled.
 */
export function untilAborted<T>(p: Promise<T>, signal: AbortSignal, abortable: () => boolean = () => true): Promise<T> {
  return markHandled(new Promise<T>((resolve, reject) => {
    const stop = whenAborted(signal, () => {
      if (abortable()) reject(signal.reason);
    });
    p.then((v) => {
      stop();
      resolve(v);
    }, (err: unknown) => {
      stop();
      reject(err);
    });
  }));
}
