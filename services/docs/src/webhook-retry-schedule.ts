/**
 * When a failed delivery is tried again, pure. `scheduleMs[i]` is the wait after the (i+1)-th
 * failed attempt of a round; a round ends when the schedule runs out or its next attempt would
 * fall after `maxAgeMs` from the round's start (a day by default): the delivery has failed.
 */
export function nextAttemptAt(opts: { scheduleMs: readonly number[]; attemptsMade: number; roundStartedAt: Date; now: Date; maxAgeMs: number }): Date | undefined {
  const wait = opts.scheduleMs[opts.attemptsMade - 1];
  if (wait === undefined) return undefined;
  const at = opts.now.getTime() + wait;
  if (at > opts.roundStartedAt.getTime() + opts.maxAgeMs) return undefined;
  return new Date(at);
}

/** The default schedule: 5 s, 30 s, 2 min, 10 min, 1 h, 3 h, 6 h, 12 h (about 22 h in all). */
export const DEFAULT_RETRY_SCHEDULE_MS = [5_000, 30_000, 120_000, 600_000, 3_600_000, 10_800_000, 21_600_000, 43_200_000] as const;
