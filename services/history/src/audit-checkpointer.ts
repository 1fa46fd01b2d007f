import { sql, type Kysely } from "kysely";
import type { Logger } from "@palimpsest/platform";
import type { AuditSigningKeys } from "./audit-keys.ts";
import type { HistoryDb } from "./schema.ts";

const BATCH = 500;

/**
 * Every `everyMs`, each document edited since its last checkpoint gets one at its head. These are
 * what make a rewrite of the stored history itself detectable: an export made after such a
 * rewrite would sign the rewritten head, but the checkpoints signed before it no longer match.
 * One replica sweeps at a time (a transaction-level advisory lock the others skip).
 */
export function runAuditCheckpointer(deps: { db: Kysely<HistoryDb>; keys: AuditSigningKeys; log: Logger; everyMs: number }): { stop(): Promise<void>; sweep(): Promise<number> } {
  const { db, keys, log, everyMs } = deps;
  let stopped = false;
  let running: Promise<number> | undefined;

  async function sweep(): Promise<number> {
    return db.transaction().execute(async (trx) => {
      const locked = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(hashtext('history:audit-checkpointer')) as ok`.execute(trx);
      if (!locked.rows[0]?.ok) return 0;
      let signed = 0;
      for (;;) {
        const due = await sql<{ doc_id: string; seq: string; hash: string }>`
          select h.doc_id, h.seq, l.hash
          from doc_heads h
          join edit_log l on l.doc_id = h.doc_id and l.seq = h.seq
          where h.seq > coalesce((select max(c.seq) from audit_checkpoints c where c.doc_id = h.doc_id), -1)
          order by h.doc_id
          limit ${BATCH}`.execute(trx);
        for (const d of due.rows) {
          if (stopped) return signed;
          await keys.checkpoint({ docId: d.doc_id, seq: Number(d.seq), editHead: d.hash });
          signed++;
        }
        if (due.rows.length < BATCH) return signed;
      }
    });
  }

  const timer = setInterval(() => {
    if (running || stopped) return;
    running = sweep()
      .then(
        (signed) => {
          if (signed > 0) log.debug({ signed }, "audit checkpoints signed");
          return signed;
        },
        (err: unknown) => {
          log.error({ err }, "audit checkpoint sweep failed");
          return 0;
        },
      )
      .finally(() => {
        running = undefined;
      });
  }, everyMs);
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
