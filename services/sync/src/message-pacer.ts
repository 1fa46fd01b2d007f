/** A per-connection message budget: `ratePerSecond` on average, `burst` at once. */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** What the pacer needs of a socket: to stop and restart reading, so TCP pushes back on the sender. */
export interface PausableSource {
  pause(): void;
  resume(): void;
  readonly isOpen: boolean;
}

/**
 * Holds a connection to its message budget. Over the budget, its messages wait in order and are
 * passed on at the budgeted rate while its socket is paused: a client sending too fast is slowed
 * down, and nothing it sent is lost or reordered.
 */
export class MessagePacer<T> {
  private readonly bucket: TokenBucket;
  private readonly backlog: T[] = [];
  private draining = false;
  private unlimited = false;
  private readonly tickMs: number;

  constructor(
    ratePerSecond: number,
    burst: number,
    private readonly source: PausableSource,
    private readonly deliver: (message: T) => void,
    private readonly onThrottle: () => void,
  ) {
    this.bucket = new TokenBucket(ratePerSecond, burst);
    this.tickMs = Math.max(1, Math.ceil(1000 / ratePerSecond));
  }

  push(message: T): void {
    if (this.unlimited || (this.backlog.length === 0 && this.bucket.take())) {
      this.deliver(message);
      return;
    }
    this.backlog.push(message);
    if (this.draining) return;
    this.draining = true;
    this.onThrottle();
    this.source.pause();
    setTimeout(() => this.drain(), this.tickMs).unref();
  }

  /**
   * Passes on everything waiting and everything that follows at once, and reads the socket again:
   * for a connection being closed on purpose (the replica is shutting down), whose every message
   * must reach the room before the socket closes, and whose budget no longer protects anyone.
   */
  unlimit(): void {
    if (this.unlimited) return;
    this.unlimited = true;
    for (const m of this.backlog.splice(0)) this.deliver(m);
    if (this.draining) {
      this.draining = false;
      this.source.resume();
    }
  }

  private drain(): void {
    if (this.unlimited) return;
    while (this.backlog.length > 0 && this.bucket.take()) this.deliver(this.backlog.shift()!);
    if (this.backlog.length > 0 && this.source.isOpen) {
      setTimeout(() => this.drain(), this.tickMs).unref();
      return;
    }
    this.draining = false;
    this.backlog.length = 0;
    if (this.source.isOpen) this.source.resume();
  }
}
