/**
 * A budget in bytes: `ratePerSecond` on average, `burst` at once. A cost larger than what is left
 * is still paid while anything is left, leaving the budget in debt, so a single message larger
 * than the burst passes and the sender then waits for the debt to be paid off.
 */
export class ByteBudget {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
  }

  get available(): boolean {
    this.refill();
    return this.tokens > 0;
  }

  spend(bytes: number): void {
    this.refill();
    this.tokens -= bytes;
  }

  /** Milliseconds until something may be spent again. */
  waitMs(): number {
    this.refill();
    return this.tokens > 0 ? 0 : Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000);
  }
}

/** What the pacer needs of a socket: to stop and restart reading, so TCP pushes back on the sender. */
export interface PausableSource {
  pause(): void;
  resume(): void;
  readonly isOpen: boolean;
}

export interface PacerLimits {
  /** Bytes per second a connection may send on average (each message also costs `messageCost`). */
  bytesPerSecond: number;
  burstBytes: number;
  /**
   * Bytes handed on and not yet done with (for an update: not yet stored). Past this the socket
   * is no longer read, so what a client sends faster than the server can store waits in TCP
   * buffers, on its side, instead of in this process.
   */
  maxPendingBytes: number;
  /**
   * Bytes received while reading was stopped (what the socket had already read). Only a peer
   * that ignores TCP flow control gets this far; it is cut off.
   */
  maxHeldBytes: number;
}

/**
 * What one message costs besides its bytes: decoding, checking it against the document, merging
 * it into a batch. Keeps a flood of tiny messages from being free, while a typist's one message
 * per keystroke (about 30 bytes each) stays far inside the budget.
 */
export const MESSAGE_COST_BYTES = 64;

interface Held<T> {
  message: T;
  bytes: number;
}

/**
 * Holds a connection to its budgets: bytes per second (what it costs the server to take in) and
 * bytes in flight (what it may make the server hold). Over either, its socket is paused and
 * what already arrived waits, in order, so a client sending too fast is slowed to what the server
 * can do, and nothing it sent is lost or reordered. A fast legitimate client (a replay, a large
 * paste) runs at the speed of the write path, since its updates are merged while they wait.
 */
export class MessagePacer<T> {
  private readonly budget: ByteBudget;
  private readonly held: Held<T>[] = [];
  private heldBytes = 0;
  private pendingBytes = 0;
  private paused = false;
  private timer: NodeJS.Timeout | undefined;
  private unlimited = false;
  private overflowed = false;

  constructor(
    private readonly limits: PacerLimits,
    private readonly source: PausableSource,
    /** Hands a message on; the promise (if any) settles when the server is done with it. */
    private readonly deliver: (message: T) => Promise<void> | undefined,
    private readonly hooks: { onThrottle(): void; onOverflow(): void },
    now?: () => number,
  ) {
    this.budget = new ByteBudget(limits.bytesPerSecond, limits.burstBytes, now);
  }

  /** Bytes handed on and not yet done with. */
  get pending(): number {
    return this.pendingBytes;
  }

  push(message: T, bytes: number): void {
    if (this.overflowed) return;
    if (!this.unlimited && !this.source.isOpen) {
      this.resumeForClose();
      return;
    }
    if (this.unlimited) {
      this.deliver(message);
      return;
    }
    this.held.push({ message, bytes });
    this.heldBytes += bytes;
    if (this.heldBytes > this.limits.maxHeldBytes) {
      this.overflowed = true;
      this.held.length = 0;
      this.heldBytes = 0;
      this.hooks.onOverflow();
      this.resumeForClose();
      return;
    }
    this.pump();
  }

  /**
   * Passes on everything waiting and everything that follows at once, and reads the socket again:
   * for a connection being closed on purpose (the replica is shutting down), whose every message
   * must reach the room before the socket closes, and whose budget no longer protects anyone.
   */
  unlimit(): void {
    if (this.unlimited) return;
    this.unlimited = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.heldBytes = 0;
    for (const h of this.held.splice(0)) this.deliver(h.message);
    if (this.paused) {
      this.paused = false;
      this.source.resume();
    }
  }

  /**
   * A closing socket is read again, and what arrives is dropped, so the client's close frame,
   * queued behind what it was still sending, is seen and the close completes.
   */
  private resumeForClose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.paused) return;
    this.paused = false;
    this.source.resume();
  }

  private pump(): void {
    if (this.unlimited || this.overflowed) return;
    if (!this.source.isOpen) {
      // Not acknowledged, so the client still has them and sends them again when it reconnects.
      this.held.length = 0;
      this.heldBytes = 0;
      this.resumeForClose();
      return;
    }
    while (this.held.length > 0 && this.pendingBytes < this.limits.maxPendingBytes && this.budget.available) {
      const { message, bytes } = this.held.shift()!;
      this.heldBytes -= bytes;
      this.budget.spend(bytes + MESSAGE_COST_BYTES);
      const done = this.deliver(message);
      if (done) {
        this.pendingBytes += bytes;
        const settle = () => {
          this.pendingBytes -= bytes;
          this.pump();
        };
        done.then(settle, settle);
      }
    }
    if (this.held.length === 0) {
      if (this.paused) {
        this.paused = false;
        this.source.resume();
      }
      return;
    }
    if (!this.paused) {
      this.paused = true;
      this.hooks.onThrottle();
      this.source.pause();
    }
    // Waiting on the budget needs a timer; waiting on stores, their settling pumps again.
    if (this.pendingBytes < this.limits.maxPendingBytes && this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, Math.max(1, this.budget.waitMs()));
      this.timer.unref();
    }
  }
}
