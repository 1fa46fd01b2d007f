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

/**
 * The stored updates of versions (afterSeq, toSeq]: from the edit log's copy of their bytes when
 * it has all of them (one query on its primary key), else from the stream.
 */
async function readRange(db: Kysely<HistoryDb>, js: JetStreamClient, docId: string, after: Position, to: Position): Promise<{ streamSeqs: number[]; updates: Uint8Array[] }> {
  const rows = await db
    .selectFrom("edit_log")
    .select(["stream_seq", "update"])
    .where("doc_id", "=", docId)
    .where("seq", ">", after.seq)
    .where("seq", "<=", to.seq)
    .orderBy("seq")
    .execute();
  if (rows.length === to.seq - after.seq && rows.every((r) => r.update !== null)) {
    return { streamSeqs: rows.map((r) => Number(r.stream_seq)), updates: rows.map((r) => r.update!) };
  }
  const streamSeqs: number[] = [];
  const updates: Uint8Array[] = [];
  for await (const e of readEdits(js, docId, after.streamSeq + 1, to.streamSeq)) {
    streamSeqs.push(e.streamSeq);
    updates.push(e.update);
  }
  return { streamSeqs, updates };
}

/** A version and where its update sits in the stream. */
interface Position {
  seq: number;
  streamSeq: number;
}

async function updatesBetween(db: Kysely<HistoryDb>, js: JetStreamClient, docId: string, after: Position, to: Position): Promise<Uint8Array[]> {
  const key = `${docId}:${after.seq}`;
  const run = runs.get(key) ?? { streamSeqs: [], updates: [] };
  if (run.updates.length < to.seq - after.seq) {
    const covered = { seq: after.seq + run.updates.length, streamSeq: run.streamSeqs.at(-1) ?? after.streamSeq };
    const more = await readRange(db, js, docId, covered, to);
    run.streamSeqs.push(...more.streamSeqs);
    run.updates.push(...more.updates);
    runs.set(key, run, run.updates.reduce((a, u) => a + u.byteLength + 72, 0));
  }
  return run.updates.slice(0, to.seq - after.seq);
}

/**
 * The stored chunks that lead on without a gap from version `fromSeq` towards `toSeq`; the
 * updates after the last of them still come from the stream.
 */
export async function chunkChain(db: Kysely<HistoryDb>, docId: string, fromSeq: number, toSeq: number): Promise<{ to_seq: number; to_stream_seq: number; update: Uint8Array }[]> {
  if (toSeq <= fromSeq) return [];
  const rows = await db
    .selectFrom("edit_chunks")
    .select(["from_seq", "to_seq", "to_stream_seq", "update"])
    .where("doc_id", "=", docId)
    .where("from_seq", ">=", fromSeq)
    .where("to_seq", "<=", toSeq)
    .orderBy("from_seq")
    .execute();
  const chain: { to_seq: number; to_stream_seq: number; update: Uint8Array }[] = [];
  let at = fromSeq;
  for (const r of rows) {
    if (Number(r.from_seq) !== at) break;
    chain.push({ to_seq: Number(r.to_seq), to_stream_seq: Number(r.to_stream_seq), update: r.update });
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
  const last = chunks.at(-1);
  const from: Position = last ? { seq: last.to_seq, streamSeq: last.to_stream_seq } : { seq: snap?.seq ?? 0, streamSeq: snap?.streamSeq ?? 0 };
  let updates: Uint8Array[] = [];
  if (from.seq < seq) updates = await updatesBetween(db, js, docId, from, { seq, streamSeq: Number(target.stream_seq) });
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
