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

const userKey = (userId: string) => `user.${userId}`;
const docKey = (docId: string) => `doc.${docId}`;

/**
 * Storage quotas on the EDITS stream, which never forgets: every byte of an edit is reserved
 * against its author's quota and its document's before it is appended, so nothing is stored past
 * either. The counters live in a JetStream KV bucket, so they survive restarts and every replica
 * sees the same ones; each is changed by compare-and-set on its revision, so two replicas
 * appending for the same user at once cannot both take the last bytes. A replica remembers the
 * last value it saw and only reads a counter again when another replica changed it meanwhile.
 */
export class StorageQuota {
  private readonly cache = new Map<string, Counter>();
  private readonly inFlight = new Map<string, Promise<void>>();

  private constructor(
    private readonly kv: KV,
    private readonly limits: QuotaLimits,
  ) {}

  static async open(nc: NatsConnection, replicas: number, limits: QuotaLimits): Promise<StorageQuota> {
    const kv = await new Kvm(nc).create(QUOTA_BUCKET, { replicas, history: 1 });
    return new StorageQuota(kv, limits);
  }

  /** Reserves `bytes` for a new edit, or throws QUOTA_EXCEEDED with nothing reserved. */
  async reserve(userId: string, docId: string, bytes: number): Promise<void> {
    if (!(await this.add(userKey(userId), bytes, this.limits.perUserBytes))) {
      throw new AppError("QUOTA_EXCEEDED", `storage quota reached: your edits may take ${mib(this.limits.perUserBytes)} in all`);
    }
    let docOk = false;
    try {
      docOk = await this.add(docKey(docId), bytes, this.limits.perDocBytes);
    } finally {
      if (!docOk) await this.release(userId, undefined, bytes);
    }
    if (!docOk) throw new AppError("QUOTA_EXCEEDED", `storage quota reached: this document's edits may take ${mib(this.limits.perDocBytes)}`);
  }

  /** Gives back a reservation whose edit was not stored. Best effort: a failure leaves it counted, which errs on the safe side. */
  async release(userId: string, docId: string | undefined, bytes: number): Promise<void> {
    await Promise.allSettled([this.add(userKey(userId), -bytes, Infinity), ...(docId ? [this.add(docKey(docId), -bytes, Infinity)] : [])]);
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
   * Adds `delta` unless the total would pass `limit`; false if it would. The changes this replica
   * makes to one counter go one at a time: its connections would otherwise only race each other
   * for the same revision. Another replica's change is met by reading again, after a short,
   * random wait so that two replicas do not keep colliding.
   */
  private add(key: string, delta: number, limit: number): Promise<boolean> {
    const previous = this.inFlight.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.addNow(key, delta, limit));
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
