/**
 * Test-only. Kill tests need a run to die at an exact point (just before a
 * rename of the publish, on either side of the history commit), not after a
 * guessed number of milliseconds. `CRM_TEST_KILL_AT=<point>` makes the
 * process send itself SIGKILL there (or `CRM_TEST_SIGNAL`, e.g. SIGTERM);
 * `CRM_TEST_FAIL_AT=<point>` throws there instead, as a full disk would.
 * Unset, as in every real run, it does nothing.
 */
export function testPoint(point: string): void {
  if (process.env.CRM_TEST_KILL_AT === point) process.kill(process.pid, (process.env.CRM_TEST_SIGNAL ?? 'SIGKILL') as NodeJS.Signals);
  if (process.env.CRM_TEST_FAIL_AT === point) throw new Error(`test failure at ${point}`);
}

/**
 * testPoint, for a point followed by a step quicker than a signal's delivery
 * (a rename): with `CRM_TEST_SIGNAL` set, it returns only once the process
 * has handled the signal, so the step runs after the handler, never before.
 */
export async function testPointHandled(point: string): Promise<void> {
  const signal = process.env.CRM_TEST_SIGNAL;
  if (process.env.CRM_TEST_KILL_AT !== point || signal === undefined || signal === 'SIGKILL') return testPoint(point);
  const handled = new Promise((resolve) => process.once(signal, resolve));
  // A signal is read by the event loop: something must keep it running until then.
  const running = setInterval(() => {}, 1000);
  testPoint(point);
  await handled;
  clearInterval(running);
}
