import * as Y from "yjs";
import { sql, type Kysely } from "kysely";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { Logger } from "@palimpsest/platform";
import { readStoredUpdates } from "./edit-reader.ts";
import type { SnapshotStore } from "./snapshot-store.ts";
import type { HistoryDb } from "./schema.ts";

export interface SnapshotPolicy {
  everyEdits: number;
  /** Consecutive updates merged into one stored chunk between snapshots. */
  chunkEdits: number;
  everySeconds: number;
  sweepMs: number;
}

/**
 * Keeps each active document's snapshots fresh: one at every `everyEdits` edits, and one at the
 * head `everySeconds` after the last when there were new edits. Snapshots are built from the
 * previous one plus the updates after it (never one Y.mergeUpdates over thousands of updates: that is quadratic), and
 * replicas never build the same one twice (a Postgres advisory lock per document).
 */
export function runSnapshotter(deps: { db: Kysely<HistoryDb>; js: JetStreamClient; store: SnapshotStore; log: Logger; policy: SnapshotPolicy }): { stop(): Promise<void>; sweep(): Promise<number> } {
  const { db, js, store, log, policy } = deps;
  let stopped = false;
  let running: Promise<number> | undefined;

  /**
   * One pass over the document's updates since its newest snapshot, storing a snapshot at every
   * `everyEdits` boundary on the way (so old versions are never more than that many updates from
   * a snapshot), and one at the head when the time rule says so.
   */
  async function build(docId: string, headSeq: number, headStreamSeq: number, timeDue: boolean): Promise<void> {
    await db.transaction().execute(async (trx) => {
      const locked = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(hashtext(${`snapshot:${docId}`})) as ok`.execute(trx);
      if (!locked.rows[0]?.ok) return;
      const prev = await store.latest(docId);
      if (prev && prev.seq >= headSeq) return;
      // Garbage-collected: deleted text's content is not needed to rebuild later versions (updates
      // refer to ids, which collected items keep), and the snapshot is smaller and faster to load.
      const doc = new Y.Doc({ gc: true });
      if (prev) Y.applyUpdate(doc, prev.state);
      const started = performance.now();
      let seq = prev?.seq ?? 0;
      let stored = 0;
      let lastSaved = seq;
      // Chunks start at a snapshot and end at the next one or after `chunkEdits` updates, so a
      // chain of them always leads on from the snapshot a version starts from.
      let chunk: Uint8Array[] = [];
      let chunkFrom = seq;
      const chunks: { doc_id: string; from_seq: number; to_seq: number; to_stream_seq: number; update: Uint8Array }[] = [];
      const from = { seq: prev?.seq ?? 0, streamSeq: prev?.streamSeq ?? 0 };
      for await (const e of readStoredUpdates(db, js, docId, from, { seq: headSeq, streamSeq: headStreamSeq })) {
        Y.applyUpdate(doc, e.update);
        seq = e.seq;
        chunk.push(e.update);
        const snapshotDue = seq % policy.everyEdits === 0 || (timeDue && seq === headSeq);
        if (snapshotDue || chunk.length >= policy.chunkEdits) {
          chunks.push({ doc_id: docId, from_seq: chunkFrom, to_seq: seq, to_stream_seq: e.streamSeq, update: Y.mergeUpdates(chunk) });
          chunk = [];
          chunkFrom = seq;
        }
        if (snapshotDue) {
          await saveChunks(trx, chunks.splice(0));
          await store.save(docId, seq, e.streamSeq, Y.encodeStateAsUpdate(doc));
          lastSaved = seq;
          stored++;
        }
        if (stopped) break;
      }
      await saveChunks(trx, chunks);
      log.debug({ docId, from: prev?.seq ?? 0, to: seq, stored, lastSaved, ms: Math.round(performance.now() - started) }, "snapshots stored");
      doc.destroy();
    });
  }

  async function saveChunks(trx: Kysely<HistoryDb>, rows: { doc_id: string; from_seq: number; to_seq: number; to_stream_seq: number; update: Uint8Array }[]): Promise<void> {
    if (rows.length === 0) return;
    await trx.insertInto("edit_chunks").values(rows).onConflict((oc) => oc.columns(["doc_id", "from_seq"]).doNothing()).execute();
  }

  async function sweep(): Promise<number> {
    const due = await sql<{ doc_id: string; seq: number; stream_seq: number; time_due: boolean }>`
      select h.doc_id, h.seq, h.stream_seq,
             (s.created_at is null or s.created_at <= now() - make_interval(secs => ${policy.everySeconds})) as time_due
      from doc_heads h
      left join lateral (select seq, created_at from snapshots s where s.doc_id = h.doc_id order by seq desc limit 1) s on true
      where h.seq > coalesce(s.seq, 0)
        and (h.seq - coalesce(s.seq, 0) >= ${policy.everyEdits}
             or s.created_at is null
             or s.created_at <= now() - make_interval(secs => ${policy.everySeconds}))
      order by h.seq - coalesce(s.seq, 0) desc
      limit 20`.execute(db);
    for (const d of due.rows) {
      if (stopped) break;
      try {
        await build(d.doc_id, Number(d.seq), Number(d.stream_seq), d.time_due);
      } catch (err) {
        log.error({ err, docId: d.doc_id }, "snapshot failed");
      }
    }
    return due.rows.length;
  }

  const timer = setInterval(() => {
    if (running || stopped) return;
    running = sweep()
      .catch((err: unknown) => {
        log.error({ err }, "snapshot sweep failed");
        return 0;
      })
      .finally(() => {
        running = undefined;
      });
  }, policy.sweepMs);
  timer.unref();
  return {
    sweep,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
