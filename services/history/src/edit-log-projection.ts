import type { JsMsg } from "@nats-io/jetstream";
import { sql, type Transaction } from "kysely";
import { GENESIS_HASH, chainHash, readEditHeaders, subjectDocId, type EditHead as PublishedHead } from "@palimpsest/contracts";
import type { HistoryDb } from "./schema.ts";

/** What the projection reads of a stored edit. */
export type EditMessage = Pick<JsMsg, "subject" | "seq" | "data" | "headers"> & { info: Pick<JsMsg["info"], "timestampNanos"> };

/** A document's newest edit in the log: the next edit's version and previous hash come from it. */
export interface EditHead {
  seq: number;
  hash: string;
  /** Where that edit is in the stream: anything at or before it is in the log already. */
  streamSeq?: number;
}

export type EditLogRow = HistoryDb["edit_log"];

/** The batch's edits with their document ids; a message on any other subject is skipped. */
export function editsOfBatch<M extends EditMessage>(msgs: M[]): { m: M; docId: string }[] {
  return msgs.flatMap((m) => {
    const docId = subjectDocId.edits(m.subject);
    return docId ? [{ m, docId }] : [];
  });
}

/**
 * The log rows of a batch's edits, in stream order: each takes the next version of its document
 * and is chained on the one before it (the head given, else genesis). An edit the log already
 * holds (delivered again, after a checkpoint that went back) takes no version: numbering it would
 * leave a gap in the versions and advance the head past the log. `heads` is not changed.
 */
export function chainEdits(edits: { m: EditMessage; docId: string }[], heads: ReadonlyMap<string, EditHead>): EditLogRow[] {
  const current = new Map(heads);
  const rows: EditLogRow[] = [];
  for (const { m, docId } of edits) {
    const head = current.get(docId) ?? { seq: 0, hash: GENESIS_HASH };
    if (head.streamSeq !== undefined && m.seq <= head.streamSeq) continue;
    const { author, client, time, via } = readEditHeaders(m.headers, m.info.timestampNanos);
    const seq = head.seq + 1;
    const hash = chainHash(head.hash, { docId, seq, author, client, time, via, update: m.data });
    rows.push({
      doc_id: docId,
      seq,
      stream_seq: m.seq,
      at: new Date(time),
      at_text: time,
      user_id: author,
      client_id: client,
      size: m.data.byteLength,
      prev_hash: head.hash,
      hash,
      update: m.data,
      via_token_id: via?.tokenId ?? null,
      via_name: via?.name ?? null,
    });
    current.set(docId, { seq, hash, streamSeq: m.seq });
  }
  return rows;
}

/** Each document's last row of a batch: its new head. */
export function newestRows(rows: EditLogRow[]): EditLogRow[] {
  const newest = new Map<string, EditLogRow>();
  for (const r of rows) newest.set(r.doc_id, r);
  return [...newest.values()];
}

/** Each document's new head after a batch; told inside the batch's transaction, so at least once. */
export type HeadsSink = (heads: { docId: string; head: PublishedHead }[]) => Promise<void>;

/**
 * Projects stored edits into the per-document edit log with its hash chain. Runs on one replica
 * at a time, in stream order, so each document's version is the count of its edits so far.
 * With `heads`, each batch's new document heads go there once its rows are written, before the
 * batch commits (so at least once; a sink that throws fails the batch, the live one never does).
 */
export function editLogApply(heads?: HeadsSink): (trx: Transaction<HistoryDb>, msgs: JsMsg[]) => Promise<void> {
  return async (trx, msgs) => {
    const newest = await applyEdits(trx, msgs);
    if (heads && newest.length > 0) await heads(newest.map((r) => ({ docId: r.doc_id, head: { seq: r.seq, at: r.at_text } })));
  };
}

/** The edit log's projection as operator tools replay it: the heads already published stay valid. */
export const applyEditBatch = editLogApply();

async function applyEdits(trx: Transaction<HistoryDb>, msgs: JsMsg[]): Promise<EditLogRow[]> {
  const edits = editsOfBatch(msgs);
  const docIds = new Set(edits.map((e) => e.docId));
  if (docIds.size === 0) return [];
  // Every document's head in one statement (a batch holds many documents' edits on a busy server);
  // the lateral join reads one index entry per document, however long its log.
  const found = await sql<{ doc_id: string; seq: number; hash: string; stream_seq: number }>`
    select d.doc_id, e.seq, e.hash, e.stream_seq
    from unnest(${[...docIds]}::text[]) as d(doc_id)
    cross join lateral (
      select seq, hash, stream_seq from edit_log where edit_log.doc_id = d.doc_id order by seq desc limit 1
    ) e`.execute(trx);
  const heads = new Map<string, EditHead>(found.rows.map((r) => [r.doc_id, { seq: Number(r.seq), hash: r.hash, streamSeq: Number(r.stream_seq) }]));
  const rows = chainEdits(edits, heads);
  // Chunks keep each statement under Postgres's parameter limit.
  for (let i = 0; i < rows.length; i += 1_000) {
    await trx.insertInto("edit_log").values(rows.slice(i, i + 1_000)).onConflict((oc) => oc.column("stream_seq").doNothing()).execute();
  }
  const newest = newestRows(rows);
  if (newest.length === 0) return [];
  await trx
    .insertInto("doc_heads")
    .values(newest.map((h) => ({ doc_id: h.doc_id, seq: h.seq, stream_seq: h.stream_seq, last_at: h.at })))
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
  return newest;
}
