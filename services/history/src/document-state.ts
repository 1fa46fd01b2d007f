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

/**
 * The stored chunks that lead on without a gap from version `fromSeq` towards `toSeq`; the
 * updates after the last of them still come from the stream.
 */
export async function chunkChain(db: Kysely<HistoryDb>, docId: string, fromSeq: number, toSeq: number): Promise<{ to_stream_seq: number; update: Uint8Array }[]> {
  if (toSeq <= fromSeq) return [];
  const rows = await db
    .selectFrom("edit_chunks")
    .select(["from_seq", "to_seq", "to_stream_seq", "update"])
    .where("doc_id", "=", docId)
    .where("from_seq", ">=", fromSeq)
    .where("to_seq", "<=", toSeq)
    .orderBy("from_seq")
    .execute();
  const chain: { to_stream_seq: number; update: Uint8Array }[] = [];
  let at = fromSeq;
  for (const r of rows) {
    if (Number(r.from_seq) !== at) break;
    chain.push({ to_stream_seq: Number(r.to_stream_seq), update: r.update });
    at = Number(r.to_seq);
  }
  return chain;
}

export interface VersionState {
  doc: Y.Doc;
  seq: number;
  streamSeq: number;
  at: Date | null;
  userId: string | null;
  /** How many stored updates were replayed on top of the snapshot and its chunks. */
  replayed: number;
  /** How many merged chunks led on from the snapshot. */
  chunks: number;
  /** Where the time went, in milliseconds: finding and loading the snapshot, reading the tail, applying both. */
  timings: { snapshot: number; read: number; apply: number };
}

/** The document as it was right after edit `seq`: the nearest snapshot at or before it, plus the updates after it. */
export async function documentAt(db: Kysely<HistoryDb>, js: JetStreamClient, snapshots: SnapshotStore, docId: string, seq: number): Promise<VersionState> {
  const doc = new Y.Doc();
  const timings = { snapshot: 0, read: 0, apply: 0 };
  if (seq === 0) return { doc, seq: 0, streamSeq: 0, at: null, userId: null, replayed: 0, chunks: 0, timings };
  let t = performance.now();
  const lap = (): number => {
    const now = performance.now();
    const spent = now - t;
    t = now;
    return spent;
  };
  const [target, snap] = await Promise.all([
    db.selectFrom("edit_log").select(["stream_seq", "at", "user_id"]).where("doc_id", "=", docId).where("seq", "=", seq).executeTakeFirst(),
    snapshots.latest(docId, seq),
  ]);
  if (!target) throw new AppError("NOT_FOUND", `version ${seq} does not exist`);
  const chunks = await chunkChain(db, docId, snap?.seq ?? 0, seq);
  timings.snapshot = lap();
  const fromStreamSeq = chunks.at(-1)?.to_stream_seq ?? snap?.streamSeq ?? 0;
  let updates: Uint8Array[] = [];
  if (fromStreamSeq < target.stream_seq) updates = await updatesBetween(js, docId, fromStreamSeq, target.stream_seq);
  timings.read = lap();
  doc.transact(() => {
    if (snap) Y.applyUpdate(doc, snap.state);
    for (const c of chunks) Y.applyUpdate(doc, c.update);
    for (const u of updates) Y.applyUpdate(doc, u);
  });
  timings.apply = lap();
  return { doc, seq, streamSeq: target.stream_seq, at: target.at, userId: target.user_id, replayed: updates.length, chunks: chunks.length, timings };
}

/** The newest version at or before a time; 0 (the empty document) if none. */
export async function seqAt(db: Kysely<HistoryDb>, docId: string, at: Date): Promise<number> {
  const row = await db.selectFrom("edit_log").select("seq").where("doc_id", "=", docId).where("at", "<=", at).orderBy("seq", "desc").limit(1).executeTakeFirst();
  return row?.seq ?? 0;
}
