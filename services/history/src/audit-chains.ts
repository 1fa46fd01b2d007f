import type { JsMsg } from "@nats-io/jetstream";
import { chainHash, eventChainHash, readEditHeaders, type AuditEditLine, type AuditErrorLine, type AuditEventLine } from "@palimpsest/contracts";
import type { Cursor } from "./audit-cursor.ts";
import type { HistoryDb } from "./schema.ts";

/**
 * The audit trail's two hash chains, one line at a time: an edit line is recomputed from the
 * stream's bytes and checked against the stored edit log; an event line gets its chain computed
 * here. A disagreement is thrown as the error line that ends the trail.
 */

export type LogRow = Pick<HistoryDb["edit_log"], "seq" | "stream_seq" | "at_text" | "user_id" | "client_id" | "size" | "prev_hash" | "hash"> &
  Partial<Pick<HistoryDb["edit_log"], "via_token_id" | "via_name">>;

export class MismatchError extends Error {
  constructor(readonly line: AuditErrorLine) {
    super(line.message);
  }
}

export function editLine(docId: string, c: Cursor, m: JsMsg, row: LogRow | undefined): AuditEditLine {
  const seq = c.edit.seq + 1;
  // Read as the edit-log projection read it when it hashed the edit.
  const { author, client, time, via } = readEditHeaders(m.headers, m.info.timestampNanos);
  const hash = chainHash(c.edit.hash, { docId, seq, author, client, time, via, update: m.data });
  const fail = (message: string): never => {
    throw new MismatchError({ type: "error", code: "CHAIN_MISMATCH", chain: "edit", seq, streamSeq: m.seq, message });
  };
  if (seq > c.editCount || !row) fail(`the stream holds an edit (stream seq ${m.seq}) that the stored edit log does not have as seq ${seq}`);
  else if (Number(row.stream_seq) < m.seq) fail(`edit seq ${seq} (stream seq ${row.stream_seq}) is in the stored edit log but missing from the stream`);
  else if (Number(row.stream_seq) > m.seq) fail(`the stream holds an edit (stream seq ${m.seq}) that the stored edit log does not have; it has seq ${seq} at stream seq ${row.stream_seq}`);
  else {
    const differs = [
      row.prev_hash !== c.edit.hash && "prev_hash",
      row.hash !== hash && "hash",
      row.user_id !== author && "author",
      row.client_id !== client && "client",
      row.at_text !== time && "time",
      Number(row.size) !== m.data.byteLength && "size",
    ].filter((f): f is string => typeof f === "string");
    if (differs.length) fail(`the stored edit log and the stream disagree on edit seq ${seq}: ${differs.join(", ")} (log hash ${row.hash}, the stream's bytes give ${hash})`);
  }
  return { type: "edit", seq, streamSeq: m.seq, time, author, client, ...(via ? { via } : {}), update: Buffer.from(m.data).toString("base64"), prevHash: c.edit.hash, hash };
}

export function eventLine(docId: string, c: Cursor, m: JsMsg): AuditEventLine {
  const seq = c.event.seq + 1;
  let event: unknown;
  try {
    event = m.json<unknown>();
  } catch {
    event = undefined;
  }
  if (event === null || typeof event !== "object" || Array.isArray(event)) {
    throw new MismatchError({ type: "error", code: "MALFORMED_EVENT", chain: "event", seq, streamSeq: m.seq, message: `the stored event at DOCS stream seq ${m.seq} is not a JSON object` });
  }
  const hash = eventChainHash(c.event.hash, { docId, seq, event });
  return { type: "event", seq, streamSeq: m.seq, event: event as Record<string, unknown>, prevHash: c.event.hash, hash };
}
