import * as Y from "yjs";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { Kysely } from "kysely";
import { AppError } from "@palimpsest/contracts";
import { readStoredUpdates, type Position } from "./edit-reader.ts";
import type { SnapshotStore } from "./snapshot-store.ts";
import type { HistoryDb } from "./schema.ts";

/**
 * The stored chunks that lead on without a gap from version `fromSeq` towards `toSeq`; the
 * updates after the last of them are read one by one.
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
  return chainFrom(rows, fromSeq);
}

type ChunkRow = { from_seq: number; to_seq: number; to_stream_seq: number; update: Uint8Array };

/** The chunks, in order, that lead on without a gap from version `fromSeq`. */
function chainFrom(rows: readonly ChunkRow[], fromSeq: number): { to_seq: number; to_stream_seq: number; update: Uint8Array }[] {
  const byStart = new Map(rows.map((r) => [Number(r.from_seq), r]));
  const chain: { to_seq: number; to_stream_seq: number; update: Uint8Array }[] = [];
  for (let r = byStart.get(fromSeq); r; r = byStart.get(Number(r.to_seq))) {
    chain.push({ to_seq: Number(r.to_seq), to_stream_seq: Number(r.to_stream_seq), update: r.update });
  }
  return chain;
}

/** How far back the first round of queries looks, in chunks and in versions; beyond, a second round reads the rest. */
const NEAR = { chunks: 64, tail: 256 } as const;

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
  // One round of queries in parallel: the snapshot, the chunks just before the version, and the
  // version's own row with the few rows before it (the tail after the last chunk is among them).
  const [near, snap, recentChunks] = await Promise.all([
    db
      .selectFrom("edit_log")
      .select(["seq", "stream_seq", "at", "user_id", "update"])
      .where("doc_id", "=", docId)
      .where("seq", ">", seq - NEAR.tail)
      .where("seq", "<=", seq)
      .orderBy("seq")
      .execute(),
    snapshots.latest(docId, seq),
    db
      .selectFrom("edit_chunks")
      .select(["from_seq", "to_seq", "to_stream_seq", "update"])
      .where("doc_id", "=", docId)
      .where("to_seq", "<=", seq)
      .orderBy("to_seq", "desc")
      .limit(NEAR.chunks)
      .execute(),
  ]);
  const target = near.at(-1);
  if (!target || Number(target.seq) !== seq) throw new AppError("NOT_FOUND", `version ${seq} does not exist`);
  const snapSeq = snap?.seq ?? 0;
  let chunks = chainFrom(recentChunks, snapSeq);
  // The window may have cut the chain short (snapshots far apart): then ask for all of it.
  if (recentChunks.length === NEAR.chunks && chunks.length === 0 && seq > snapSeq) chunks = await chunkChain(db, docId, snapSeq, seq);
  timings.snapshot = lap();
  const last = chunks.at(-1);
  const from: Position = last ? { seq: last.to_seq, streamSeq: last.to_stream_seq } : { seq: snapSeq, streamSeq: snap?.streamSeq ?? 0 };
  const tail = near.filter((r) => Number(r.seq) > from.seq);
  let updates: Uint8Array[];
  if (tail.length === seq - from.seq && tail.every((r) => r.update !== null)) updates = tail.map((r) => r.update!);
  else {
    updates = [];
    for await (const u of readStoredUpdates(db, js, docId, from, { seq, streamSeq: Number(target.stream_seq) })) updates.push(u.update);
  }
  timings.read = lap();
  doc.transact(() => {
    if (snap) Y.applyUpdate(doc, snap.state);
    for (const c of chunks) Y.applyUpdate(doc, c.update);
    for (const u of updates) Y.applyUpdate(doc, u);
  });
  timings.apply = lap();
  return { doc, seq, streamSeq: Number(target.stream_seq), at: target.at, userId: target.user_id, replayed: updates.length, chunks: chunks.length, timings };
}

/** The newest version at or before a time; 0 (the empty document) if none. */
export async function seqAt(db: Kysely<HistoryDb>, docId: string, at: Date): Promise<number> {
  const row = await db.selectFrom("edit_log").select("seq").where("doc_id", "=", docId).where("at", "<=", at).orderBy("seq", "desc").limit(1).executeTakeFirst();
  return row?.seq ?? 0;
}

/** The newest version of a document; 0 (the empty document) if it has none. */
export async function headSeq(db: Kysely<HistoryDb>, docId: string): Promise<number> {
  const row = await db.selectFrom("edit_log").select("seq").where("doc_id", "=", docId).orderBy("seq", "desc").limit(1).executeTakeFirst();
  return row?.seq ?? 0;
}
