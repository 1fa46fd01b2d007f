import type { Kysely } from "kysely";
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { AUDIT_CHAIN_DESCRIPTION, AUDIT_FORMAT, AUDIT_VERSION, GENESIS_HASH, Streams, subjects, type AuditCheckpointLine, type AuditHeader } from "@palimpsest/contracts";
import type { LogRow } from "./audit-chains.ts";
import type { AuditSigningKeys } from "./audit-keys.ts";
import type { Cursor } from "./audit-cursor.ts";
import type { HistoryDb } from "./schema.ts";

/**
 * What the audit export reads besides the stream messages themselves: the bounds an export
 * covers (fixed when it begins), how far ahead to fetch, and the stored edit log to check against.
 */
export function createAuditSources(db: Kysely<HistoryDb>, nc: NatsConnection, keys: AuditSigningKeys) {
  let jsm: Promise<JetStreamManager> | undefined;
  const manager = () => (jsm ??= jetstreamManager(nc));

  async function lastOnSubject(stream: string, subject: string): Promise<number> {
    const m = await (await manager()).streams.getMessage(stream, { last_by_subj: subject });
    return m?.seq ?? 0;
  }

  async function begin(docId: string): Promise<{ cursor: Cursor; header: AuditHeader }> {
    // The events' bound first: an event stored after it is left out, never half-counted.
    const [head, editLast, eventBound, fileBound] = await Promise.all([
      db.selectFrom("edit_log").select(["seq", "stream_seq"]).where("doc_id", "=", docId).orderBy("seq", "desc").limit(1).executeTakeFirst(),
      lastOnSubject(Streams.edits, subjects.edits(docId)),
      lastOnSubject(Streams.docs, subjects.docEvents(docId)),
      lastOnSubject(Streams.docs, subjects.fileEvents(docId)),
    ]);
    const cursor: Cursor = {
      v: 1,
      docId,
      editCount: Number(head?.seq ?? 0),
      editBound: Number(head?.stream_seq ?? 0),
      editLast,
      eventBound,
      fileBound,
      edit: { next: 1, seq: 0, hash: GENESIS_HASH },
      event: { next: 1, seq: 0, hash: GENESIS_HASH },
      skip: 0,
      cpNext: 0,
      cpLast: -1,
    };
    const header: AuditHeader = {
      type: "header",
      format: AUDIT_FORMAT,
      version: AUDIT_VERSION,
      docId,
      exportedAt: new Date().toISOString(),
      chains: AUDIT_CHAIN_DESCRIPTION,
      source: {
        edits: { stream: Streams.edits, subject: subjects.edits(docId) },
        events: { stream: Streams.docs, subject: subjects.docEvents(docId), fileSubject: subjects.fileEvents(docId) },
      },
    };
    return { cursor, header };
  }

  /**
   * How many edits to fetch ahead: about a page's worth, judged by the largest of the next edits
   * in the stored log, so a run of big edits is not pulled by the hundred and small ones not one by one.
   */
  async function prefetchFor(docId: string, afterSeq: number, budget: number): Promise<number> {
    const r = await db
      .selectFrom("edit_log")
      .select((eb) => eb.fn.max("size").as("largest"))
      .where("doc_id", "=", docId)
      .where("seq", ">", afterSeq)
      .where("seq", "<=", afterSeq + 1_000)
      .executeTakeFirst();
    // A line costs about 4/3 of the bytes plus ~400 of fields and hashes.
    return Math.max(1, Math.min(1_000, Math.floor(budget / ((Number(r?.largest ?? 0) * 4) / 3 + 400))));
  }

  /** Loads the stored log a slice at a time, as the export reaches it. */
  function logReader(docId: string, after: number) {
    const rows = new Map<number, LogRow>();
    let loadedThrough = after;
    return async (seq: number): Promise<LogRow | undefined> => {
      if (seq > loadedThrough) {
        rows.clear();
        const batch = await db
          .selectFrom("edit_log")
          .select(["seq", "stream_seq", "at_text", "user_id", "client_id", "size", "prev_hash", "hash"])
          .where("doc_id", "=", docId)
          .where("seq", ">=", seq)
          .where("seq", "<", seq + 2_000)
          .execute();
        for (const r of batch) rows.set(Number(r.seq), r);
        loadedThrough = seq + 1_999;
      }
      return rows.get(seq);
    };
  }

  /** The stored checkpoints up to edit `bound`, a slice at a time, as the export reaches their edits. */
  function checkpointReader(docId: string, bound: number) {
    const rows = new Map<number, AuditCheckpointLine>();
    let loadedFrom = Infinity;
    let loadedThrough = -1;
    return async (seq: number): Promise<AuditCheckpointLine | undefined> => {
      if (seq > bound) return undefined;
      if (seq < loadedFrom || seq > loadedThrough) {
        rows.clear();
        const batch = await db.selectFrom("audit_checkpoints").selectAll().where("doc_id", "=", docId).where("seq", ">=", seq).where("seq", "<=", bound).orderBy("seq").limit(1_000).execute();
        for (const r of batch) rows.set(Number(r.seq), { type: "checkpoint", docId: r.doc_id, seq: Number(r.seq), editHead: r.edit_head, at: r.at, kid: r.kid, sig: r.sig });
        loadedFrom = seq;
        loadedThrough = batch.length < 1_000 ? bound : Number(batch[batch.length - 1]?.seq ?? bound);
      }
      return rows.get(seq);
    };
  }

  /** The checkpoint of the head an export ends at: the one stored for that edit, or one signed now. */
  const signEnd = (docId: string, seq: number, editHead: string) => keys.checkpoint({ docId, seq, editHead });

  return { begin, prefetchFor, logReader, checkpointReader, signEnd };
}
