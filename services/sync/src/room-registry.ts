import { DocRoom, type RoomDeps } from "./doc-room.ts";

interface Entry {
  docId: string;
  room: Promise<DocRoom>;
  users: number;
  unloadTimer: NodeJS.Timeout | undefined;
  /** A room that broke: no longer handed out, closed once its last connection has left. */
  detached: boolean;
}

/**
 * Keeps active documents in memory and unloads idle ones, so memory follows the documents
 * in use, not every document ever opened. Concurrent opens of one document share one load.
 */
export class RoomRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly entryOf = new WeakMap<DocRoom, Entry>();

  constructor(private readonly deps: RoomDeps & { idleUnloadMs: number }) {}

  async acquire(docId: string): Promise<DocRoom> {
    let entry = this.entries.get(docId);
    if (!entry) {
      const created: Entry = { docId, room: Promise.resolve(undefined as never), users: 0, unloadTimer: undefined, detached: false };
      created.room = DocRoom.open(docId, { ...this.deps, onBroken: () => this.detach(created) });
      entry = created;
      this.entries.set(docId, entry);
      this.deps.metrics.openDocuments.set(this.entries.size);
      const room = entry.room;
      room.then((r) => this.entryOf.set(r, created), () => {
        if (this.entries.get(docId) === created) {
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
    let room: DocRoom;
    try {
      room = await entry.room;
    } catch (err) {
      entry.users--;
      throw err;
    }
    // It broke while loading: the caller gets a fresh load.
    if (entry.detached) {
      this.release(room);
      return this.acquire(docId);
    }
    return room;
  }

  /** Gives back a room `acquire` handed out. */
  release(room: DocRoom): void {
    const entry = this.entryOf.get(room);
    if (!entry) return;
    entry.users--;
    if (entry.users > 0) return;
    if (entry.detached) {
      room.close();
      return;
    }
    entry.unloadTimer = setTimeout(() => {
      if (entry.users > 0 || this.entries.get(entry.docId) !== entry) return;
      this.entries.delete(entry.docId);
      this.deps.metrics.openDocuments.set(this.entries.size);
      room.close();
    }, this.deps.idleUnloadMs);
    entry.unloadTimer.unref();
  }

  /**
   * A room whose feed broke no longer matches the stream: it is dropped at once, so the next
   * connection loads the document afresh (and is asked for whatever the reload lacks), and it
   * is closed when the connections it has (already told to reconnect) are gone.
   */
  private detach(entry: Entry): void {
    if (entry.detached) return;
    entry.detached = true;
    if (entry.unloadTimer) clearTimeout(entry.unloadTimer);
    if (this.entries.get(entry.docId) === entry) {
      this.entries.delete(entry.docId);
      this.deps.metrics.openDocuments.set(this.entries.size);
    }
    if (entry.users === 0) void entry.room.then((r) => r.close(), () => undefined);
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
