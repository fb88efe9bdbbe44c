/**
 * The tool calls under way in this process. Stopping the process waits for them, not merely for the
 * request to Sinch each has under way, and then stops those still running between two requests, so
 * that each can say exactly what it applied; a client's cancellation stops a call the same way.
 */
export class ToolCalls {
  readonly #running = new Map<Promise<unknown>, { controller: AbortController; changes: boolean }>();

  /**
   * Runs one call with a signal that fires when the client cancels it or the process stops. A call that
   * `changes` nothing is not waited for once stopping: its outcome matters to no one.
   */
  async run<T>(cancelled: AbortSignal, changes: boolean, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const cancel = () => controller.abort(new Error('the client cancelled the call'));
    if (cancelled.aborted) cancel();
    else cancelled.addEventListener('abort', cancel, { once: true });
    const call = work(controller.signal);
    this.#running.set(call, { controller, changes });
    try {
      return await call;
    } finally {
      this.#running.delete(call);
      cancelled.removeEventListener('abort', cancel);
    }
  }

  /**
   * Waits up to `graceMs` for the calls under way, then tells those still running to stop before their
   * next request to Sinch, and waits up to `stopMs` more for the changes among them to answer with what
   * they applied. Returns how many changes were told to stop.
   */
  async drain(graceMs: number, stopMs: number): Promise<number> {
    await settled([...this.#running.keys()], graceMs);
    const changes = [...this.#running].filter(([, call]) => call.changes).map(([promise]) => promise);
    for (const { controller } of this.#running.values()) controller.abort(new Error('the server is stopping'));
    await settled(changes, stopMs);
    // The SDK writes a result once the handler has returned it: let it.
    await new Promise((resolve) => setImmediate(resolve));
    return changes.length;
  }
}

async function settled(calls: Promise<unknown>[], ms: number): Promise<void> {
  if (calls.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.allSettled(calls), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
