// For specs that run in a child process of their own (jest keeps the real process's
// 'unhandledRejection' to itself): the unhandled rejections, by the scenario that was running.

/** Records every unhandled rejection of this process under the name in `current`. */
export class UnhandledRecorder {
  /** Rejection messages (`Name: message`) by scenario; empty when there were none. */
  readonly byScenario: Record<string, string[]> = {};
  /** The scenario running now: set it before each one. */
  current = 'setup';

  constructor() {
    process.on('unhandledRejection', (reason) => {
      (this.byScenario[this.current] ??= []).push(reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason));
    });
  }
}
