/** The longest delay Node's timers take (32 bits); a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The delay until `at` (ms since the epoch) for a timer: never negative, and never more than a
 * timer takes, so something due in years (a token without expiry) fires in about 24 days
 * instead of at once; whoever set it checks again then.
 */
export function delayUntil(at: number, now = Date.now()): number {
  return Math.min(MAX_TIMER_MS, Math.max(0, at - now));
}
