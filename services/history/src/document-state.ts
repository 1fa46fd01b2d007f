import * as Y from "yjs";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { Kysely } from "kysely";
import { AppError } from "@palimpsest/contracts";
import { readEdits } from "./edit-reader.ts";
import type { SnapshotStore } from "./snapshot-store.ts";
import type { HistoryDb } from "./schema.ts";

export interface VersionState {
  doc: Y.Doc;
  seq: number;
  streamSeq: number;
  at: Date | null;
  userId: string | null;
  /** How many stored updates were replayed on top of the snapshot. */
  replayed: number;
}

/** The document as it was right after edit `seq`: the nearest snapshot at or before it, plus the updates after it. */
export async function documentAt(db: Kysely<HistoryDb>, js: JetStreamClient, snapshots: SnapshotStore, docId: string, seq: number): Promise<VersionState> {
  const doc = new Y.Doc({ gc: false });
  if (seq === 0) return { doc, seq: 0, streamSeq: 0, at: null, userId: null, replayed: 0 };
  const target = await db.selectFrom("edit_log").select(["stream_seq", "at", "user_id"]).where("doc_id", "=", docId).where("seq", "=", seq).executeTakeFirst();
  if (!target) throw new AppError("NOT_FOUND", `version ${seq} does not exist`);
  const snap = await snapshots.latest(docId, seq);
  if (snap) Y.applyUpdate(doc, snap.state);
  let replayed = 0;
  if (!snap || snap.streamSeq < target.stream_seq) {
    const updates: Uint8Array[] = [];
    for await (const e of readEdits(js, docId, (snap?.streamSeq ?? 0) + 1, target.stream_seq)) updates.push(e.update);
    doc.transact(() => {
      for (const u of updates) Y.applyUpdate(doc, u);
    });
    replayed = updates.length;
  }
  return { doc, seq, streamSeq: target.stream_seq, at: target.at, userId: target.user_id, replayed };
}

/** The newest version at or before a time; 0 (the empty document) if none. */
export async function seqAt(db: Kysely<HistoryDb>, docId: string, at: Date): Promise<number> {
  const row = await db.selectFrom("edit_log").select("seq").where("doc_id", "=", docId).where("at", "<=", at).orderBy("seq", "desc").limit(1).executeTakeFirst();
  return row?.seq ?? 0;
}
