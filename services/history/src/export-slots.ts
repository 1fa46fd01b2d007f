import { AppError } from "@palimpsest/contracts";

export interface ExportSlotLimits {
  perUser: number;
  total: number;
}

/** How long a refused caller is told to wait: about one page's work (pages stop after 1.5 s). */
const RETRY_AFTER_SECONDS = 2;

/**
 * Audit export pages in progress on this replica, per user and in all. An export is a series of
 * page calls made one after another, so the pages in progress are the exports being worked on; a
 * member starting many at once gets RATE_LIMITED (429 with Retry-After) instead of taking every
 * slot and stalling history for everyone. Per replica: replicas share the load through the queue
 * group, so the cluster-wide bound is this times the number of replicas.
 */
export class ExportSlots {
  private readonly byUser = new Map<string, number>();
  private total = 0;

  constructor(private readonly limits: ExportSlotLimits) {}

  /** Takes a slot for `userId` or throws RATE_LIMITED; the returned function gives it back. */
  acquire(userId: string): () => void {
    const mine = this.byUser.get(userId) ?? 0;
    if (mine >= this.limits.perUser || this.total >= this.limits.total) {
      const which = mine >= this.limits.perUser ? "you already have as many audit exports running as allowed" : "too many audit exports are running";
      throw new AppError("RATE_LIMITED", `${which}; try again shortly`, { details: { retryAfterSeconds: RETRY_AFTER_SECONDS } });
    }
    this.byUser.set(userId, mine + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.byUser.get(userId) ?? 1) - 1;
      if (left > 0) this.byUser.set(userId, left);
      else this.byUser.delete(userId);
    };
  }
}
