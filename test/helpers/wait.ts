// The tests' one way to wait for something that happens in the background (a workflow step, a
// stored callback, a simulator callback): poll until it is there, or fail saying what never came.

/**
 * Polls `check` until it gives something other than undefined, null or false, and returns that.
 * A `check` that throws is polled again (a store may be restarting); after `timeoutMs` it fails
 * naming `what` and the last error. Polls often at first, then every 100 ms.
 */
export async function waitFor<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let everyMs = 10;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const last = lastError === undefined ? '' : ` (last error: ${lastError instanceof Error ? lastError.message : String(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
    everyMs = Math.min(everyMs * 2, 100);
  }
}
