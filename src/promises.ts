/**
 * A promise started now and awaited later: marked handled at once, so a
 * failure before that await is never an unhandled rejection (which would end
 * the process); the await still throws it.
 */
export function awaitedLater<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}
