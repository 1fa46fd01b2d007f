import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import * as awarenessProtocol from "y-protocols/awareness";
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import type { NatsConnection } from "@nats-io/transport-node";
import { AppError, CloseCodes, closeCodeOf } from "@palimpsest/contracts";
import { createLogger, createMetrics } from "@palimpsest/platform";
import { DocRoom, QUIET_RESYNC_ROUNDS, type Peer } from "../src/doc-room.ts";
import type { EditFeed, EditLog, EditMeta } from "../src/edit-log.ts";
import { RoomRegistry } from "../src/room-registry.ts";
import type { StorageQuota } from "../src/storage-quota.ts";
import { createSyncMetrics } from "../src/sync-metrics.ts";
import { MessageType, SyncType, decodeMessage, encodeSyncStep1, encodeUpdate } from "../src/protocol.ts";

interface Stored {
  docId: string;
  update: Uint8Array;
  meta: EditMeta;
}

interface Follower {
  docId: string;
  onEdit: (update: Uint8Array, meta: EditMeta) => void;
  onError: (err: unknown) => void;
}

/** An edit log in memory: every append is stored (no duplicate window) and handed to the document's followers. */
class MemoryEditLog {
  readonly stored: Stored[] = [];
  readonly followers = new Set<Follower>();

  async append(docId: string, update: Uint8Array, author: string, client: string): Promise<{ streamSeq: number; duplicate: boolean }> {
    const meta = { streamSeq: this.stored.length + 1, author, client, time: new Date().toISOString() };
    this.stored.push({ docId, update, meta });
    for (const f of this.followers) if (f.docId === docId) f.onEdit(update, meta);
    return { streamSeq: meta.streamSeq, duplicate: false };
  }

  async lastStreamSeq(docId: string): Promise<number> {
    return this.stored.filter((s) => s.docId === docId).at(-1)?.meta.streamSeq ?? 0;
  }

  async follow(docId: string, onEdit: Follower["onEdit"], onError: Follower["onError"], after = 0): Promise<EditFeed> {
    const target = await this.lastStreamSeq(docId);
    if (target < after) {
      const { SnapshotAhead } = await import("../src/edit-log.ts");
      return { caughtUp: Promise.reject(new SnapshotAhead(docId, after, target)), stop: () => undefined };
    }
    for (const s of this.stored) if (s.docId === docId && s.meta.streamSeq > after) onEdit(s.update, s.meta);
    const f = { docId, onEdit, onError };
    this.followers.add(f);
    return { caughtUp: Promise.resolve(), stop: () => this.followers.delete(f) };
  }

  editsOf(docId: string): number {
    return this.stored.filter((s) => s.docId === docId).length;
  }

  fail(docId: string, err: Error): void {
    for (const f of [...this.followers]) if (f.docId === docId) f.onError(err);
  }
}

/** Core NATS as the presence relay uses it: nothing is delivered. */
const quietNats = { publish: () => undefined, subscribe: () => ({ unsubscribe: () => undefined }) } as unknown as NatsConnection;
const quota = { reserve: async () => undefined, release: () => undefined } as unknown as StorageQuota;

function deps(editLog: MemoryEditLog, loadSnapshot?: (docId: string) => Promise<{ streamSeq: number; updates: Uint8Array[] } | null>) {
  return {
    editLog: editLog as unknown as EditLog,
    nc: quietNats,
    replicaId: "replica-1",
    log: createLogger("sync", "silent", "replica-1"),
    metrics: createSyncMetrics(createMetrics("sync")),
    quota,
    maxNestingDepth: 256,
    ...(loadSnapshot ? { loadSnapshot } : {}),
  };
}

/** A y-websocket client as the room sees it: it answers the server's step 1 and applies what it is sent. */
class Client {
  readonly doc = new Y.Doc();
  readonly closes: number[] = [];
  private readonly inbox: Uint8Array[] = [];
  readonly peer: Peer;

  constructor(private readonly room: () => DocRoom, id: string) {
    this.peer = {
      id,
      userId: `user-${id}`,
      name: id,
      canWrite: true,
      send: (m) => this.inbox.push(m),
      close: (code) => this.closes.push(code),
    };
    this.doc.on("update", (update: Uint8Array, origin: unknown) => {
      if (origin !== this) void this.room().handle(this.peer, decodeMessage(encodeUpdate(update)));
    });
  }

  /** What the server sent that has not been read yet. */
  pending(): Uint8Array[] {
    return [...this.inbox];
  }

  /** Handles what the server sent; resolves once what it answered is stored. */
  async read(): Promise<void> {
    for (const m of this.inbox.splice(0)) {
      const d = decoding.createDecoder(m);
      if (decoding.readVarUint(d) !== MessageType.sync) continue;
      const type = decoding.readVarUint(d);
      const payload = decoding.readVarUint8Array(d);
      if (type === SyncType.step1) {
        const answer = encoding.createEncoder();
        encoding.writeVarUint(answer, MessageType.sync);
        encoding.writeVarUint(answer, SyncType.step2);
        encoding.writeVarUint8Array(answer, Y.encodeStateAsUpdate(this.doc, payload));
        await this.room().handle(this.peer, decodeMessage(encoding.toUint8Array(answer)));
      } else {
        Y.applyUpdate(this.doc, payload, this);
      }
    }
  }
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe("a document's room", () => {
  it("given an idle client in a document with a deletion, when the room asks it for what it lacks every 10 s for ten minutes, then nothing is stored", async () => {
    // Given a room, and a client that typed "hello world" and deleted a word
    const edits = new MemoryEditLog();
    const room = await DocRoom.open("doc-1", deps(edits));
    const client = new Client(() => room, "a");
    room.join(client.peer);
    await client.read();
    const text = client.doc.getText("t");
    text.insert(0, "hello world");
    text.delete(5, 6);
    await settle();
    const typed = edits.editsOf("doc-1");
    expect(typed).toBe(2);
    expect(room.doc.getText("t").toString()).toBe("hello");

    // When the periodic resync asks it sixty times and it answers each time
    for (let i = 0; i < 60; i++) {
      room.resync();
      await client.read();
    }

    // Then the history holds only what the client did
    expect(edits.editsOf("doc-1")).toBe(typed);
    room.close();
  });

  it("given three connections of which one typed, when the room resyncs, then only the one that typed is asked, and the quiet ones every sixth round", async () => {
    // Given a room with two writers and a viewer, all synced
    const edits = new MemoryEditLog();
    const room = await DocRoom.open("doc-7", deps(edits));
    const typist = new Client(() => room, "a");
    const quiet = new Client(() => room, "b");
    const viewer = new Client(() => room, "c");
    (viewer.peer as { canWrite: boolean }).canWrite = false;
    for (const c of [typist, quiet, viewer]) {
      room.join(c.peer);
      await c.read();
    }
    const asked = (c: Client) => c.pending().filter((m) => m[0] === MessageType.sync && m[1] === SyncType.step1).length;

    // When one writer types and the room resyncs
    typist.doc.getText("t").insert(0, "typed");
    await settle();
    room.resync();

    // Then only that writer is asked for what the server lacks
    expect([asked(typist), asked(quiet), asked(viewer)]).toEqual([1, 0, 0]);
    await typist.read();

    // When nobody types for five more rounds, nobody is asked; at the sixth the quiet writers are
    for (let round = 2; round <= QUIET_RESYNC_ROUNDS; round++) {
      room.resync();
      expect([asked(typist), asked(quiet), asked(viewer)]).toEqual([0, round === QUIET_RESYNC_ROUNDS ? 1 : 0, 0]);
      await Promise.all([typist.read(), quiet.read()]);
    }
    expect(edits.editsOf("doc-7")).toBe(1);
    room.close();
  });

  it("given a client whose presence is not renewed, when the replica sweeps its rooms, then the presence is dropped after 30 s and the others are told", async () => {
    // Given two clients in a room, one of which announced its presence
    const room = await DocRoom.open("doc-8", deps(new MemoryEditLog()));
    const away = new Client(() => room, "a");
    const other = new Client(() => room, "b");
    for (const c of [away, other]) {
      room.join(c.peer);
      await c.read();
    }
    const presence = new awarenessProtocol.Awareness(away.doc);
    presence.setLocalState({ cursor: 3 });
    await room.handle(away.peer, { type: "awareness", update: awarenessProtocol.encodeAwarenessUpdate(presence, [presence.clientID]) });
    presence.destroy();
    expect(room.awareness.getStates().has(away.doc.clientID)).toBe(true);
    await other.read();
    const announced = Date.now();

    // When the replica sweeps before 30 s have passed, the presence stays
    room.dropOutdatedPresence(announced + 29_000);
    expect(room.awareness.getStates().has(away.doc.clientID)).toBe(true);
    expect(other.pending()).toHaveLength(0);

    // When it sweeps after 30 s, the presence is gone and the other client is sent its removal
    room.dropOutdatedPresence(announced + 30_500);
    expect(room.awareness.getStates().has(away.doc.clientID)).toBe(false);
    const told = other.pending().filter((m) => m[0] === MessageType.awareness);
    expect(told).toHaveLength(1);
    room.close();
  });

  it("given a client that left, when an update of its still reaches the room, then nothing is stored for it", async () => {
    const edits = new MemoryEditLog();
    const room = await DocRoom.open("doc-4", deps(edits));
    const client = new Client(() => room, "a");
    room.join(client.peer);
    await client.read();
    room.leave(client.peer);
    client.doc.getText("t").insert(0, "after leaving");
    await settle();
    expect(edits.editsOf("doc-4")).toBe(0);
    room.close();
  });

  it("given an update holding one struct larger than a stored event may be, then it is refused whole (1009) before anything is stored", async () => {
    const edits = new MemoryEditLog();
    const room = await DocRoom.open("doc-5", deps(edits));
    const client = new Client(() => room, "a");
    room.join(client.peer);
    await client.read();
    // One paste of 9 MiB is one struct: it cannot be cut, and the stream takes 8 MiB a message.
    client.doc.transact(() => {
      client.doc.getText("t").insert(0, "small edit first, ");
      client.doc.getText("t").insert(18, "x".repeat(9 * 1024 * 1024));
    });
    await settle();
    expect(client.closes).toEqual([CloseCodes.messageTooBig]);
    expect(edits.editsOf("doc-5")).toBe(0);
    room.close();
  });

  it("given a catch-up in parts that would go past the user's quota, then none of it is stored", async () => {
    const edits = new MemoryEditLog();
    // A quota with 1.5 MiB left: less than the catch-up, more than its first part.
    let left = 1.5 * 1024 * 1024;
    const tight = {
      reserve: async (_user: string, _doc: string, bytes: number) => {
        if (bytes > left) throw new AppError("QUOTA_EXCEEDED", "storage quota exceeded");
        left -= bytes;
      },
      release: (_user: string, _doc: string | undefined, bytes: number) => void (left += bytes),
    } as unknown as StorageQuota;
    const room = await DocRoom.open("doc-6", { ...deps(edits), quota: tight });
    const client = new Client(() => room, "a");
    room.join(client.peer);
    await client.read();
    const text = client.doc.getText("t");
    // Offline: many edits, sent as one step 2 of about 3 MiB when the client answers the server.
    room.leave(client.peer);
    for (let i = 0; i < 3_000; i++) text.insert(Math.floor(text.length / 2), `line ${i} written offline, `.repeat(30));
    room.join(client.peer);
    await client.read();
    await settle();
    expect(client.closes).toEqual([closeCodeOf("QUOTA_EXCEEDED")]);
    expect(edits.editsOf("doc-6")).toBe(0);
    expect(left).toBe(1.5 * 1024 * 1024);
    room.close();
  });

  it("given a room whose feed fails, then its clients are told to reconnect and the next connection gets a room loaded afresh", async () => {
    // Given a document open with a client in it
    const edits = new MemoryEditLog();
    const rooms = new RoomRegistry({ ...deps(edits), idleUnloadMs: 60_000 });
    const first = await rooms.acquire("doc-2");
    const client = new Client(() => first, "a");
    first.join(client.peer);
    await client.read();
    client.doc.getText("t").insert(0, "kept");
    await settle();

    // When its feed fails
    edits.fail("doc-2", new Error("the feed stopped"));

    // Then the client is told to reconnect, and the room is not handed out again
    expect(client.closes).toEqual([CloseCodes.serviceRestart]);
    const second = await rooms.acquire("doc-2");
    expect(second).not.toBe(first);
    expect(second.doc.getText("t").toString()).toBe("kept");
    // A connection that still reaches the broken room is sent on too.
    const late = new Client(() => first, "b");
    first.join(late.peer);
    expect(late.closes).toEqual([CloseCodes.serviceRestart]);
    first.leave(client.peer);
    rooms.release(first);
    rooms.release(second);
    await rooms.closeAll();
  });

  it("given a snapshot from further than the stream holds, then the room is built from the stream alone and asks its clients for the rest", async () => {
    // Given a stream that holds one edit, and a snapshot that says it covers three
    const edits = new MemoryEditLog();
    const stored = new Y.Doc();
    stored.getText("t").insert(0, "stored");
    await edits.append("doc-3", Y.encodeStateAsUpdate(stored), "user-a", "conn-a");
    const lost = new Y.Doc();
    Y.applyUpdate(lost, Y.encodeStateAsUpdate(stored));
    lost.getText("t").insert(6, " and lost");
    const snapshot = async () => ({ streamSeq: 3, updates: [Y.encodeStateAsUpdate(lost)] });

    // When the document opens
    const room = await DocRoom.open("doc-3", deps(edits, snapshot));

    // Then it holds only what is stored, so a client holding the rest is asked for it and sends it
    expect(room.doc.getText("t").toString()).toBe("stored");
    const client = new Client(() => room, "a");
    Y.applyUpdate(client.doc, Y.encodeStateAsUpdate(lost), client);
    room.join(client.peer);
    await client.read();
    expect(edits.editsOf("doc-3")).toBe(2);
    expect(room.doc.getText("t").toString()).toBe("stored and lost");
    expect(encodeSyncStep1(room.doc)).toEqual(encodeSyncStep1(lost));
    room.close();
  });
});
