import * as Y from "yjs";
import { sql, type Kysely } from "kysely";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { Logger } from "@palimpsest/platform";
import { readEdits } from "./edit-reader.ts";
import type { SnapshotStore } from "./snapshot-store.ts";
import type { HistoryDb } from "./schema.ts";

export interface SnapshotPolicy {
  everyEdits: number;
  everySeconds: number;
  sweepMs: number;
}

/**
 * Keeps each active document's snapshot fresh: after `everyEdits` edits, or `everySeconds` after
 * the last snapshot when there were new edits. A snapshot is built from the previous one plus the
 * updates after it (never one Y.mergeUpdates over thousands of updates: that is quadratic), and
 * replicas never build the same one twice (a Postgres advisory lock per document).
 */
export function runSnapshotter(deps: { db: Kysely<HistoryDb>; js: JetStreamClient; store: SnapshotStore; log: Logger; policy: SnapshotPolicy }): { stop(): Promise<void>; sweep(): Promise<number> } {
  const { db, js, store, log, policy } = deps;
  let stopped = false;
  let running: Promise<number> | undefined;

  async function build(docId: string, seq: number, streamSeq: number): Promise<void> {
    await db.transaction().execute(async (trx) => {
      const locked = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(hashtext(${`snapshot:${docId}`})) as ok`.execute(trx);
      if (!locked.rows[0]?.ok) return;
      const prev = await store.latest(docId);
      if (prev && prev.seq >= seq) return;
      const doc = new Y.Doc({ gc: false });
      if (prev) Y.applyUpdate(doc, prev.state);
      const started = performance.now();
      let n = 0;
      for await (const e of readEdits(js, docId, (prev?.streamSeq ?? 0) + 1, streamSeq)) {
        Y.applyUpdate(doc, e.update);
        n++;
      }
      const state = Y.encodeStateAsUpdate(doc);
      const where = await store.save(docId, seq, streamSeq, state);
      log.debug({ docId, seq, replayed: n, bytes: state.byteLength, where, ms: Math.round(performance.now() - started) }, "snapshot stored");
      doc.destroy();
    });
  }

  async function sweep(): Promise<number> {
    const due = await sql<{ doc_id: string; seq: number; stream_seq: number }>`
      select h.doc_id, h.seq, h.stream_seq
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
        await build(d.doc_id, Number(d.seq), Number(d.stream_seq));
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
