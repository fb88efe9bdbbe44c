import type { ToolCalls } from '../mcp/calls.js';

export interface Shutdown {
  /** How long calls under way may take before they are told to stop before their next request to Sinch. */
  graceMs: number;
  /** How long calls told to stop may take to finish the request they have under way and answer. */
  stopMs: number;
  /**
   * Stops the transport and closes the backend. `drained` settles once the calls are done or told to
   * stop, with how many changes were told to.
   */
  close(drained: Promise<number>, why: string): Promise<void>;
}

/**
 * Stops the process, once, on SIGTERM, SIGINT or a call of the function returned: the calls under way
 * are drained (ToolCalls.drain) while `close` stops the transport, then the process exits 0.
 */
export function stopOnSignals(calls: ToolCalls, { graceMs, stopMs, close }: Shutdown): (why: string) => void {
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    void close(calls.drain(graceMs, stopMs), why).then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return stop;
}
