import type { JsMsg } from "@nats-io/jetstream";
import type { Transaction } from "kysely";
import { EditHeaders, GENESIS_HASH, chainHash } from "@palimpsest/contracts";
import type { HistoryDb } from "./schema.ts";

const EDIT_SUBJECT = /^edits\.([A-Za-z0-9_-]{1,64})$/;

/**
 * Projects stored edits into the per-document edit log with its hash chain. Runs on one replica
 * at a time, in stream order, so each document's version is the count of its edits so far.
 */
export async function applyEditBatch(trx: Transaction<HistoryDb>, msgs: JsMsg[]): Promise<void> {
  const heads = new Map<string, { seq: number; hash: string }>();
  const rows: HistoryDb["edit_log"][] = [];
  for (const m of msgs) {
    const docId = EDIT_SUBJECT.exec(m.subject)?.[1];
    if (!docId) continue;
    let head = heads.get(docId);
    if (!head) {
      const last = await trx.selectFrom("edit_log").select(["seq", "hash"]).where("doc_id", "=", docId).orderBy("seq", "desc").limit(1).executeTakeFirst();
      head = last ?? { seq: 0, hash: GENESIS_HASH };
    }
    const author = m.headers?.get(EditHeaders.author) ?? "";
    const client = m.headers?.get(EditHeaders.client) ?? "";
    const timeText = m.headers?.get(EditHeaders.time) || new Date(m.info.timestampNanos / 1e6).toISOString();
    const seq = head.seq + 1;
    const hash = chainHash(head.hash, { docId, seq, author, client, time: timeText, update: m.data });
    rows.push({
      doc_id: docId,
      seq,
      stream_seq: m.seq,
      at: new Date(timeText),
      at_text: timeText,
      user_id: author,
      client_id: client,
      size: m.data.byteLength,
      prev_hash: head.hash,
      hash,
      update: m.data,
    });
    heads.set(docId, { seq, hash });
  }
  // Chunks keep each statement under Postgres's parameter limit.
  for (let i = 0; i < rows.length; i += 1_000) {
    await trx.insertInto("edit_log").values(rows.slice(i, i + 1_000)).onConflict((oc) => oc.column("stream_seq").doNothing()).execute();
  }
  const newest = new Map<string, HistoryDb["edit_log"]>();
  for (const r of rows) newest.set(r.doc_id, r);
  for (const h of newest.values()) {
    await trx
      .insertInto("doc_heads")
      .values({ doc_id: h.doc_id, seq: h.seq, stream_seq: h.stream_seq, last_at: h.at })
      .onConflict((oc) =>
        oc.column("doc_id").doUpdateSet({ seq: h.seq, stream_seq: h.stream_seq, last_at: h.at }).where("doc_heads.seq", "<", h.seq),
      )
      .execute();
  }
}
