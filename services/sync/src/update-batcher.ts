import * as Y from "yjs";

/** One update, or one update cut into parts (a catch-up): stored alone, in order, as one write. */
export type Queued = Uint8Array | readonly Uint8Array[];

interface Pending {
  update: Queued;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface BatchLimits {
  /** Updates merged into one event at most; Y.mergeUpdates is quadratic in this. @default 200 */
  maxUpdates: number;
  /** Bytes merged into one event at most. @default 1 MiB */
  maxBytes: number;
}

/**
 * One connection's write path: one append in flight at a time, and whatever the client sends
 * meanwhile is merged (Y.mergeUpdates) into the next event. A typist's keystrokes arrive far
 * apart and are stored one by one; a fast client (a paste, a replay, a reconnect) gets few large
 * events instead of thousands of round trips. Order within the connection is kept, every event
 * has one author, and each update's promise settles only when the event holding it is stored.
 */
export class UpdateBatcher {
  private readonly queue: Pending[] = [];
  private running = false;
  /** Set by a failed append: nothing sent after it may be stored ahead of what it held. */
  private failure: { err: unknown } | undefined;

  constructor(
    private readonly append: (update: Queued, updates: number) => Promise<void>,
    private readonly limits: BatchLimits = { maxUpdates: 200, maxBytes: 1024 * 1024 },
  ) {}

  push(update: Queued): Promise<void> {
    // The client's later updates build on the ones that failed: stored alone, they would wait in
    // every reader for what is missing. It sends them all again when it reconnects.
    if (this.failure) return Promise.reject(this.failure.err);
    return new Promise((resolve, reject) => {
      this.queue.push({ update, resolve, reject });
      if (!this.running) void this.run();
    });
  }

  get pending(): number {
    return this.queue.length;
  }

  private take(): Pending[] {
    // An update in parts goes alone: its parts are already about as large as an event should be.
    if (Array.isArray(this.queue[0]?.update)) return this.queue.splice(0, 1);
    // Count first, then one splice: shifting one by one is quadratic on a long queue.
    let n = 0;
    let bytes = 0;
    while (n < this.queue.length && n < this.limits.maxUpdates) {
      const next = this.queue[n]!.update;
      if (Array.isArray(next)) break;
      const size = (next as Uint8Array).byteLength;
      if (n > 0 && bytes + size > this.limits.maxBytes) break;
      bytes += size;
      n++;
    }
    return this.queue.splice(0, n);
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.take();
        const merged = batch.length === 1 ? batch[0]!.update : Y.mergeUpdates(batch.map((p) => p.update as Uint8Array));
        try {
          await this.append(merged, batch.length);
          for (const p of batch) p.resolve();
        } catch (err) {
          // Nothing after a failed append may be stored out of order: fail the rest too, and what comes later.
          this.failure = { err };
          for (const p of [...batch, ...this.queue.splice(0)]) p.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
