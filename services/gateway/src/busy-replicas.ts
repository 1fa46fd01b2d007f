/**
 * Replicas that lately turned a connection away (503: opening as many as they will at once) or
 * did not answer in time. For a moment after, the gateway sends them nothing new, and when every
 * replica is in that state it refuses a client at once (1013) instead of checking its token and
 * dialling each replica first: in a burst of reconnects that work, repeated for every retry, was
 * what kept the replicas from catching up. No clock of its own: the caller passes `now`.
 */
export class BusyReplicas {
  private readonly until = new Map<string, number>();

  constructor(private readonly restMs = 1_000) {}

  /** The replica at `url` turned a connection away or did not answer. */
  mark(url: string, now: number): void {
    this.until.set(url, now + this.restMs);
  }

  isBusy(url: string, now: number): boolean {
    const until = this.until.get(url);
    if (until === undefined) return false;
    if (until > now) return true;
    this.until.delete(url);
    return false;
  }

  /** Whether every one of these replicas is resting (false for none: that is "none known", not "busy"). */
  allBusy(urls: readonly string[], now: number): boolean {
    return urls.length > 0 && urls.every((u) => this.isBusy(u, now));
  }
}
