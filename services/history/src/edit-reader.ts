import { DeliverPolicy, type JetStreamClient } from "@nats-io/jetstream";
import type { Kysely } from "kysely";
import { Streams, readEditHeaders, subjects } from "@palimpsest/contracts";
import { discardConsumer } from "@palimpsest/platform";
import type { HistoryDb } from "./schema.ts";

export interface StoredEdit {
  streamSeq: number;
  update: Uint8Array;
  author: string;
  client: string;
  time: string;
}

/**
 * Reads a document's stored updates from the EDITS stream, in order, from stream sequence
 * `fromStreamSeq` through `toStreamSeq` (both inclusive).
 */
export async function* readEdits(js: JetStreamClient, docId: string, fromStreamSeq: number, toStreamSeq: number): AsyncGenerator<StoredEdit> {
  if (toStreamSeq < fromStreamSeq) return;
  const consumer = await js.consumers.get(Streams.edits, {
    filter_subjects: subjects.edits(docId),
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: Math.max(1, fromStreamSeq),
  });
  const messages = await consumer.consume({ max_messages: 5_000 });
  try {
    for await (const m of messages) {
      if (m.seq > toStreamSeq) break;
      const { author, client, time } = readEditHeaders(m.headers, m.info.timestampNanos);
      yield { streamSeq: m.seq, update: m.data, author, client, time };
      if (m.seq >= toStreamSeq || m.info.pending === 0) break;
    }
  } finally {
    discardConsumer(consumer, messages);
  }
}

/** A version and where its update sits in the stream. */
export interface Position {
  seq: number;
  streamSeq: number;
}

const PAGE = 2_000;

/**
 * The updates of versions (after, to], in order: from the edit log's copies of their bytes, a
 * page at a time, and from the stream for any run the log has no copy of. Reading the log keeps
 * history off the stream's consumer API, where creating a filtered consumer makes the server
 * count everything after its start while appends to the stream wait.
 */
export async function* readStoredUpdates(db: Kysely<HistoryDb>, js: JetStreamClient, docId: string, after: Position, to: Position): AsyncGenerator<Position & { update: Uint8Array }> {
  let at = after;
  while (at.seq < to.seq) {
    const rows = await db
      .selectFrom("edit_log")
      .select(["seq", "stream_seq", "update"])
      .where("doc_id", "=", docId)
      .where("seq", ">", at.seq)
      .where("seq", "<=", Math.min(to.seq, at.seq + PAGE))
      .orderBy("seq")
      .execute();
    const copied = [];
    for (const r of rows) {
      if (r.update === null || Number(r.seq) !== at.seq + copied.length + 1) break;
      copied.push({ seq: Number(r.seq), streamSeq: Number(r.stream_seq), update: r.update });
    }
    for (const c of copied) yield c;
    at = copied.at(-1) ?? at;
    if (copied.length === rows.length && rows.length > 0) continue;
    // The log has no copy from here (rows projected before it kept them): the rest comes from the stream.
    let seq = at.seq;
    for await (const e of readEdits(js, docId, at.streamSeq + 1, to.streamSeq)) yield { seq: ++seq, streamSeq: e.streamSeq, update: e.update };
    return;
  }
}
