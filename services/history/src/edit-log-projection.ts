import type { JsMsg } from "@nats-io/jetstream";
import { sql, type Transaction } from "kysely";
import { EditHeaders, GENESIS_HASH, chainHash } from "@palimpsest/contracts";
import type { HistoryDb } from "./schema.ts";

const EDIT_SUBJECT = /^edits\.([A-Za-z0-9_-]{1,64})$/;

/**
 * Projects stored edits into the per-document edit log with its hash chain. Runs on one replica
 * at a time, in stream order, so each document's version is the count of its edits so far.
 */
export async function applyEditBatch(trx: Transaction<HistoryDb>, msgs: JsMsg[]): Promise<void> {
  const edits = msgs.flatMap((m) => {
    const docId = EDIT_SUBJECT.exec(m.subject)?.[1];
    return docId ? [{ m, docId }] : [];
  });
  const docIds = new Set(edits.map((e) => e.docId));
  if (docIds.size === 0) return;
  // Every document's head in one statement (a batch holds many documents' edits on a busy server);
  // the lateral join reads one index entry per document, however long its log.
  const found = await sql<{ doc_id: string; seq: number; hash: string }>`
    select d.doc_id, e.seq, e.hash
    from unnest(${[...docIds]}::text[]) as d(doc_id)
    cross join lateral (
      select seq, hash from edit_log where edit_log.doc_id = d.doc_id order by seq desc limit 1
    ) e`.execute(trx);
  const heads = new Map<string, { seq: number; hash: string }>(found.rows.map((r) => [r.doc_id, { seq: Number(r.seq), hash: r.hash }]));
  const rows: HistoryDb["edit_log"][] = [];
  for (const { m, docId } of edits) {
    const head = heads.get(docId) ?? { seq: 0, hash: GENESIS_HASH };
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
  if (newest.size === 0) return;
  await trx
    .insertInto("doc_heads")
    .values([...newest.values()].map((h) => ({ doc_id: h.doc_id, seq: h.seq, stream_seq: h.stream_seq, last_at: h.at })))
    .onConflict((oc) =>
      oc
        .column("doc_id")
        .doUpdateSet({
          seq: (eb) => eb.ref("excluded.seq"),
          stream_seq: (eb) => eb.ref("excluded.stream_seq"),
          last_at: (eb) => eb.ref("excluded.last_at"),
        })
        .whereRef("doc_heads.seq", "<", "excluded.seq"),
    )
    .execute();
}
