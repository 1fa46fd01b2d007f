import * as Y from "yjs";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { Kysely } from "kysely";
import { AppError } from "@palimpsest/contracts";
import { readEdits } from "./edit-reader.ts";
import type { SnapshotStore } from "./snapshot-store.ts";
import { ByteCache } from "./byte-cache.ts";
import type { HistoryDb } from "./schema.ts";

/**
 * The stored updates after each snapshot, by document and snapshot position, extended as later
 * versions are asked for: scrubbing through versions reads each update from the stream once.
 */
interface Run {
  streamSeqs: number[];
  updates: Uint8Array[];
}
const runs = new ByteCache<Run>(64 * 1024 * 1024);

async function updatesBetween(js: JetStreamClient, docId: string, afterStreamSeq: number, toStreamSeq: number): Promise<Uint8Array[]> {
  const key = `${docId}:${afterStreamSeq}`;
  const run = runs.get(key) ?? { streamSeqs: [], updates: [] };
  const covered = run.streamSeqs.at(-1) ?? afterStreamSeq;
  if (covered < toStreamSeq) {
    for await (const e of readEdits(js, docId, covered + 1, toStreamSeq)) {
      run.streamSeqs.push(e.streamSeq);
      run.updates.push(e.update);
    }
    runs.set(key, run, run.updates.reduce((a, u) => a + u.byteLength + 72, 0));
  }
  let end = run.streamSeqs.length;
  while (end > 0 && run.streamSeqs[end - 1]! > toStreamSeq) end--;
  return run.updates.slice(0, end);
}

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
  const doc = new Y.Doc();
  if (seq === 0) return { doc, seq: 0, streamSeq: 0, at: null, userId: null, replayed: 0 };
  const target = await db.selectFrom("edit_log").select(["stream_seq", "at", "user_id"]).where("doc_id", "=", docId).where("seq", "=", seq).executeTakeFirst();
  if (!target) throw new AppError("NOT_FOUND", `version ${seq} does not exist`);
  const snap = await snapshots.latest(docId, seq);
  if (snap) Y.applyUpdate(doc, snap.state);
  let replayed = 0;
  if (!snap || snap.streamSeq < target.stream_seq) {
    const updates = await updatesBetween(js, docId, snap?.streamSeq ?? 0, target.stream_seq);
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
