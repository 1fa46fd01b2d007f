import type { NatsConnection } from "@nats-io/transport-node";
import { Kvm, type KV } from "@nats-io/kv";
import { AppError } from "@palimpsest/contracts";

/** The JetStream KV bucket that counts the bytes of edits stored per user and per document. */
export const QUOTA_BUCKET = "SYNC_QUOTAS";

export interface QuotaLimits {
  perUserBytes: number;
  perDocBytes: number;
}

/** Bytes counted under one key, and the KV revision they were read at. */
interface Counter {
  bytes: number;
  revision: number;
}

/** How many times a counter is read again after another replica changed it first. */
const MAX_ATTEMPTS = 20;
/** Counters remembered between appends; past this the memory is cleared (they are read again). */
const MAX_CACHED = 10_000;
/** The most a replica takes from a shared counter at once (less for small limits: a 64th of the limit). */
const GRANT_BYTES = 64 * 1024;
/** A grant not drawn on for this long is given back to its counter. */
const GRANT_IDLE_MS = 30_000;

const userKey = (userId: string) => `user.${userId}`;
const docKey = (docId: string) => `doc.${docId}`;

/** Bytes a replica has taken from a shared counter and not yet spent on edits. */
interface Grant {
  bytes: number;
  usedAt: number;
}

/**
 * Storage quotas on the EDITS stream, which never forgets: every byte of an edit is reserved
 * against its author's quota and its document's before it is appended, so nothing is stored past
 * either. The counters live in a JetStream KV bucket, so they survive restarts and every replica
 * sees the same ones; each is changed by compare-and-set on its revision, so two replicas
 * appending for the same user at once cannot both take the last bytes.
 *
 * A replica does not write a counter per edit: it takes a grant (up to 64 KiB, a thousand
 * keystrokes) and spends it locally, so a typist costs one KV write per grant instead of two per
 * keystroke, and one user's connections do not queue behind each other's KV round trips. Near
 * the limit a grant is only what the edit needs, so the limit holds to the byte. Unspent grants go
 * back after 30 s unused and on shutdown; a replica that dies keeps at most one grant per counter
 * counted, which errs on the safe side.
 */
export class StorageQuota {
  private readonly cache = new Map<string, Counter>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly grants = new Map<string, Grant>();
  private readonly sweeper: NodeJS.Timeout;

  private constructor(
    private readonly kv: KV,
    private readonly limits: QuotaLimits,
    private readonly now: () => number,
  ) {
    this.sweeper = setInterval(() => void this.returnIdle(), GRANT_IDLE_MS / 2);
    this.sweeper.unref();
  }

  static async open(nc: NatsConnection, replicas: number, limits: QuotaLimits, now: () => number = Date.now): Promise<StorageQuota> {
    const kv = await new Kvm(nc).create(QUOTA_BUCKET, { replicas, history: 1 });
    return new StorageQuota(kv, limits, now);
  }

  /** Reserves `bytes` for a new edit, or throws QUOTA_EXCEEDED with nothing reserved. */
  async reserve(userId: string, docId: string, bytes: number): Promise<void> {
    if (!(await this.take(userKey(userId), bytes, this.limits.perUserBytes))) {
      throw new AppError("QUOTA_EXCEEDED", `storage quota reached: your edits may take ${mib(this.limits.perUserBytes)} in all`);
    }
    let docOk = false;
    try {
      docOk = await this.take(docKey(docId), bytes, this.limits.perDocBytes);
    } finally {
      if (!docOk) this.giveBack(userKey(userId), bytes);
    }
    if (!docOk) throw new AppError("QUOTA_EXCEEDED", `storage quota reached: this document's edits may take ${mib(this.limits.perDocBytes)}`);
  }

  /** Gives back a reservation whose edit was not stored: it stays with this replica for the next edit. */
  release(userId: string, docId: string | undefined, bytes: number): void {
    this.giveBack(userKey(userId), bytes);
    if (docId) this.giveBack(docKey(docId), bytes);
  }

  /** Returns every unspent grant to its counter (on shutdown). */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.returnGrants([...this.grants.keys()]);
  }

  /** Returns grants not drawn on for a while, so that bytes another replica may need are not held here. */
  async returnIdle(): Promise<void> {
    const idle = this.now() - GRANT_IDLE_MS;
    await this.returnGrants([...this.grants].filter(([, g]) => g.usedAt <= idle).map(([k]) => k));
  }

  private async returnGrants(keys: string[]): Promise<void> {
    await Promise.allSettled(
      keys.map((key) =>
        this.serially(key, async () => {
          const g = this.grants.get(key);
          this.grants.delete(key);
          // Best effort: a failure leaves the bytes counted, which errs on the safe side.
          if (g && g.bytes > 0) await this.addNow(key, -g.bytes, Infinity);
        }),
      ),
    );
  }

  private giveBack(key: string, bytes: number): void {
    const g = this.grants.get(key);
    if (g) g.bytes += bytes;
    else this.grants.set(key, { bytes, usedAt: this.now() });
  }

  /** Spends `bytes` of this replica's grant on `key`, taking a new grant from the counter when it runs short. */
  private async take(key: string, bytes: number, limit: number): Promise<boolean> {
    if (this.spend(key, bytes)) return true;
    return this.serially(key, async () => {
      // Another edit may have topped the grant up while this one waited.
      if (this.spend(key, bytes)) return true;
      const held = this.grants.get(key)?.bytes ?? 0;
      const need = bytes - held;
      const ask = Math.max(need, Math.min(GRANT_BYTES, Math.floor(limit / 64)));
      let got = (await this.addNow(key, ask, limit)) ? ask : 0;
      // Near the limit, only what this edit needs.
      if (got === 0 && ask > need && (await this.addNow(key, need, limit))) got = need;
      if (got === 0) return false;
      this.giveBack(key, got);
      return this.spend(key, bytes);
    });
  }

  private spend(key: string, bytes: number): boolean {
    const g = this.grants.get(key);
    if (!g || g.bytes < bytes) return false;
    g.bytes -= bytes;
    g.usedAt = this.now();
    return true;
  }

  /** What is counted under a user's or a document's key (for tests and operators). */
  async used(scope: "user" | "doc", id: string): Promise<number> {
    return (await this.read(scope === "user" ? userKey(id) : docKey(id))).bytes;
  }

  private async read(key: string): Promise<Counter> {
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== "PUT") return { bytes: 0, revision: entry?.revision ?? 0 };
    const bytes = Number(entry.string());
    return { bytes: Number.isFinite(bytes) ? bytes : 0, revision: entry.revision };
  }

  /**
   * Runs `work` after every earlier change this replica started on the same counter: its
   * connections would otherwise only race each other for the same revision.
   */
  private serially<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.inFlight.get(key) ?? Promise.resolve();
    const next = previous.then(work);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.set(key, settled);
    void settled.then(() => {
      if (this.inFlight.get(key) === settled) this.inFlight.delete(key);
    });
    return next;
  }

  /**
   * Adds `delta` unless the total would pass `limit`; false if it would. Another replica's change
   * is met by reading again, after a short, random wait so that two replicas do not keep colliding.
   */
  private async addNow(key: string, delta: number, limit: number): Promise<boolean> {
    let lastErr: unknown;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
      const current = this.cache.get(key) ?? (await this.read(key));
      const next = Math.max(0, current.bytes + delta);
      // Another replica only ever adds, so a remembered value below the limit may be stale; one
      // at or past it is read again before refusing (a release may have lowered it).
      if (delta > 0 && next > limit) {
        if (this.cache.delete(key)) continue;
        return false;
      }
      try {
        const revision = current.revision === 0 ? await this.kv.create(key, String(next)) : await this.kv.update(key, String(next), current.revision);
        if (this.cache.size >= MAX_CACHED) this.cache.clear();
        this.cache.set(key, { bytes: next, revision });
        return true;
      } catch (err) {
        // Changed by someone else since we read it: read it again and retry.
        lastErr = err;
        this.cache.delete(key);
      }
    }
    throw lastErr instanceof Error ? lastErr : new Error(`could not update quota counter ${key}`);
  }
}

function mib(bytes: number): string {
  return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MiB`;
}
