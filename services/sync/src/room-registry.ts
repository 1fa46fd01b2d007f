import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "@palimpsest/platform";
import { DocRoom } from "./doc-room.ts";
import type { EditLog } from "./edit-log.ts";
import type { StorageQuota } from "./storage-quota.ts";
import type { SyncMetrics } from "./sync-metrics.ts";

interface Entry {
  room: Promise<DocRoom>;
  users: number;
  unloadTimer: NodeJS.Timeout | undefined;
}

/**
 * Keeps active documents in memory and unloads idle ones, so memory follows the documents
 * in use, not every document ever opened. Concurrent opens of one document share one load.
 */
export class RoomRegistry {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly deps: {
      editLog: EditLog;
      nc: NatsConnection;
      replicaId: string;
      log: Logger;
      metrics: SyncMetrics;
      quota: StorageQuota;
      idleUnloadMs: number;
      maxNestingDepth: number;
      loadSnapshot?: (docId: string) => Promise<{ streamSeq: number; updates: Uint8Array[] } | null>;
    },
  ) {}

  async acquire(docId: string): Promise<DocRoom> {
    let entry = this.entries.get(docId);
    if (!entry) {
      const room = DocRoom.open(docId, this.deps);
      entry = { room, users: 0, unloadTimer: undefined };
      this.entries.set(docId, entry);
      this.deps.metrics.openDocuments.set(this.entries.size);
      room.catch(() => {
        if (this.entries.get(docId)?.room === room) {
          this.entries.delete(docId);
          this.deps.metrics.openDocuments.set(this.entries.size);
        }
      });
    }
    entry.users++;
    if (entry.unloadTimer) {
      clearTimeout(entry.unloadTimer);
      entry.unloadTimer = undefined;
    }
    try {
      return await entry.room;
    } catch (err) {
      entry.users--;
      throw err;
    }
  }

  release(docId: string): void {
    const entry = this.entries.get(docId);
    if (!entry) return;
    entry.users--;
    if (entry.users > 0) return;
    entry.unloadTimer = setTimeout(() => {
      if (entry.users > 0 || this.entries.get(docId) !== entry) return;
      this.entries.delete(docId);
      this.deps.metrics.openDocuments.set(this.entries.size);
      void entry.room.then((r) => r.close(), () => undefined);
    }, this.deps.idleUnloadMs);
    entry.unloadTimer.unref();
  }

  /** The document's room if it is open and loaded here; never loads one. */
  async peek(docId: string): Promise<DocRoom | undefined> {
    const entry = this.entries.get(docId);
    if (!entry) return undefined;
    return entry.room.catch(() => undefined);
  }

  /** Every loaded room, for replica-wide presence housekeeping. */
  async loaded(): Promise<DocRoom[]> {
    const rooms = await Promise.all([...this.entries.values()].map((e) => e.room.catch(() => undefined)));
    return rooms.filter((r): r is DocRoom => r !== undefined);
  }

  get openCount(): number {
    return this.entries.size;
  }

  async closeAll(): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    for (const e of entries) {
      if (e.unloadTimer) clearTimeout(e.unloadTimer);
      await e.room.then((r) => r.close(), () => undefined);
    }
  }
}
