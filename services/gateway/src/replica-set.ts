/** One replica as the gateway knows it from its announcements. */
export interface KnownReplica {
  readonly replicaId: string;
  readonly url: string;
  /** After this (ms since the epoch) without a new announcement, the replica is taken for dead. */
  readonly expiresAt: number;
}

/** What changed in the set, for the log. */
export type ReplicaChange = { kind: "added" | "moved" | "left" | "expired"; replicaId: string; url: string };

/**
 * The replicas of one service that a gateway may send new work to: those that announced
 * themselves within their time to live and have not said they are leaving. No I/O and no clock
 * of its own (the caller passes `now`), so every rule is tested directly:
 *
 * | event                                 | effect                                                       |
 * |---------------------------------------|--------------------------------------------------------------|
 * | `up` from an unknown replica          | added                                                        |
 * | `up` from a known one                 | its time to live starts again; a new URL replaces the old    |
 * | `up` naming a URL another id holds    | the other is dropped: one process per address (a restart)    |
 * | `leave`                               | removed at once, before its connections are closed           |
 * | `expire` past a replica's time to live| removed: it died without a word                              |
 *
 * `choose` gives the order to try them in for one new connection, starting one further along
 * each time, so connections spread evenly and a replica that does not answer is skipped.
 */
export class ReplicaSet {
  private readonly replicas = new Map<string, KnownReplica>();
  private turn = 0;

  up(replicaId: string, url: string, ttlMs: number, now: number): ReplicaChange[] {
    const changes: ReplicaChange[] = [];
    for (const other of this.replicas.values()) {
      if (other.url === url && other.replicaId !== replicaId) {
        this.replicas.delete(other.replicaId);
        changes.push({ kind: "left", replicaId: other.replicaId, url: other.url });
      }
    }
    const known = this.replicas.get(replicaId);
    this.replicas.set(replicaId, { replicaId, url, expiresAt: now + ttlMs });
    if (!known) changes.push({ kind: "added", replicaId, url });
    else if (known.url !== url) changes.push({ kind: "moved", replicaId, url });
    return changes;
  }

  leave(replicaId: string): ReplicaChange[] {
    const known = this.replicas.get(replicaId);
    if (!known) return [];
    this.replicas.delete(replicaId);
    return [{ kind: "left", replicaId, url: known.url }];
  }

  expire(now: number): ReplicaChange[] {
    const changes: ReplicaChange[] = [];
    for (const r of this.replicas.values()) {
      if (r.expiresAt > now) continue;
      this.replicas.delete(r.replicaId);
      changes.push({ kind: "expired", replicaId: r.replicaId, url: r.url });
    }
    return changes;
  }

  /** The live replicas, in a stable order (by id), so that taking turns is fair. */
  live(now: number): KnownReplica[] {
    return [...this.replicas.values()].filter((r) => r.expiresAt > now).sort((a, b) => (a.replicaId < b.replicaId ? -1 : a.replicaId > b.replicaId ? 1 : 0));
  }

  /** URLs to try for one new connection: every live replica once, starting with the next in turn. */
  choose(now: number): string[] {
    return rotate(this.live(now).map((r) => r.url), this.turn++);
  }
}

/** The list starting at position `turn` (modulo its length), wrapping around. */
export function rotate<T>(items: readonly T[], turn: number): T[] {
  if (items.length === 0) return [];
  const start = turn % items.length;
  return [...items.slice(start), ...items.slice(0, start)];
}
