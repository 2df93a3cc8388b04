import { UsageError } from '../errors.js';

/** Whether a day is more than a day after the day of the run, as a row's date in the future is (the load's future-date rejects). */
export const isFutureDay = (day: string, runDay: string) => Date.parse(day) - Date.parse(runDay) > 86_400_000;

/**
 * A day the user gives (`field`: the flag or config key) that is in the future, by the
 * rule of the future-date rejects, is a usage error: an as-of to come would make every
 * customer decades late, a holdout to come would count the purchases not yet made as missed.
 */
export function refuseFutureDay(field: string, day: string | undefined, runDay: string, timezone: string): void {
  if (day !== undefined && isFutureDay(day, runDay)) {
    throw new UsageError(`${field} ${day} is in the future (today is ${runDay} in ${timezone}): give a day that has passed, or leave it out for the latest transaction date`);
  }
}
