import type { Caller } from "@palimpsest/contracts";
import type { Kysely } from "kysely";
import type { NatsConnection } from "@nats-io/transport-node";
import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { AuditPageInput, Streams, parse, subjects, type AuditEndLine, type AuditPage } from "@palimpsest/contracts";
import { requireCaller, requireDocPermission, type RpcContext, type RpcResult } from "@palimpsest/platform";
import { editLine, eventLine, MismatchError } from "./audit-chains.ts";
import { decodeCursor, encodeCursor, type Cursor } from "./audit-cursor.ts";
import { editTime, eventTime, mergeBySeq, orderKey, Peekable, readSubject } from "./audit-merge.ts";
import { prefixWithin, replyBytes } from "./audit-reply-size.ts";
import { createAuditSources } from "./audit-sources.ts";
import type { AuditSigningKeys } from "./audit-keys.ts";
import type { ExportSlots } from "./export-slots.ts";
import type { HistoryDb } from "./schema.ts";

/**
 * `rpc.history.audit`: a document's audit trail (format in contracts/src/audit.ts), one page per
 * call so no reply passes the NATS max payload and nothing holds the whole trail in memory.
 *
 * The edit bytes live only in the EDITS stream: each page reads them with an ordered consumer from
 * where the previous page stopped, recomputes the hash chain and checks every edit against the
 * stored edit log (stream sequence, author, client, time, size, prev_hash, hash). The metadata
 * events come from the DOCS stream (the document's own subject and its file events' subject, merged
 * in stream order) and get their own chain, computed here. Where the log and the
 * stream disagree, the page ends with an error line and the export stops.
 *
 * Signed checkpoints (audit-checkpoint.ts in contracts) follow the edits they cover; the export
 * ends with one of its own end head, signed then, unless one was stored for that edit before.
 *
 * The export covers what existed when it began: edits up to the edit log's head then (an edit the
 * projection has not reached yet is left for a later export) and events up to the DOCS stream's
 * last one for the document. The cursor carries the bounds and both chains' state.
 */

export interface AuditExportOptions {
  /** Largest reply; defaults to half the server's max payload, at most 4 MiB. */
  pageBytes?: number;
  /** A page stops early after this long, so each reply comes well inside the gateway's timeout. */
  pageMillis?: number;
  /** Bounds the pages in progress, per user and in all; unbounded when absent. */
  slots?: ExportSlots;
  /** Signs the head each export ends at. */
  keys: AuditSigningKeys;
}

export function createAuditExport(db: Kysely<HistoryDb>, nc: NatsConnection, js: JetStreamClient, opts: AuditExportOptions) {
  const { begin, prefetchFor, logReader, checkpointReader, signEnd } = createAuditSources(db, nc, opts.keys);
  const pageMillis = opts.pageMillis ?? 1_500;
  const defaultPageBytes = () => opts.pageBytes ?? Math.min(4 * 1024 * 1024, Math.floor((nc.info?.max_payload ?? 1024 * 1024) / 2));

  async function requireAccess(docId: string, caller: Caller, requestId: string): Promise<void> {
    await requireDocPermission(nc, { docId, userId: caller.userId, scopes: caller.token?.scopes, requestId }, "history", "only owners, editors and auditors can export the audit trail");
  }

  async function page(input: unknown, ctx: RpcContext): Promise<RpcResult> {
    const caller = requireCaller(ctx);
    const q = parse(AuditPageInput, input, "query");
    await requireAccess(q.id, caller, ctx.requestId);
    const release = opts.slots?.acquire(caller.userId);
    try {
      return await buildPage(q, ctx);
    } finally {
      release?.();
    }
  }

  async function buildPage(q: AuditPageInput, ctx: RpcContext): Promise<RpcResult> {
    const docId = q.id;
    // The header and an error line are short (well under the smallest page), so only edit and
    // event lines, which can be regenerated from the cursor, ever span pages.
    const budget = q.pageBytes ?? defaultPageBytes();
    const started = performance.now();
    const out: string[] = [];
    let used = 0;
    let c: Cursor;
    if (q.cursor) {
      c = decodeCursor(q.cursor, docId);
    } else {
      const first = await begin(docId);
      c = first.cursor;
      const header = `${JSON.stringify(first.header)}\n`;
      out.push(header);
      used += replyBytes(header);
    }

    const editsAhead = c.edit.next <= c.editBound && c.edit.next <= c.editLast;
    const edits = new Peekable(
      editsAhead ? readSubject(js, Streams.edits, subjects.edits(docId), c.edit.next, c.editBound, await prefetchFor(docId, c.edit.seq, budget)) : undefined,
    );
    const events = new Peekable(
      mergeBySeq(
        c.event.next <= c.eventBound ? readSubject(js, Streams.docs, subjects.docEvents(docId), c.event.next, c.eventBound, 200) : undefined,
        c.event.next <= c.fileBound ? readSubject(js, Streams.docs, subjects.fileEvents(docId), c.event.next, c.fileBound, 200) : undefined,
      ),
    );
    const logRow = logReader(docId, c.edit.seq);
    const checkpointAt = checkpointReader(docId, c.editCount);
    let nextCursor: string | null = null;
    try {
      for (;;) {
        if (out.length > 0 && performance.now() - started > pageMillis) {
          nextCursor = encodeCursor(c);
          break;
        }
        // A checkpoint line follows the edit it covers (the header for seq 0), so a verifier
        // compares it with the chain as it stands there, in one pass.
        if (c.cpNext <= c.edit.seq) {
          const cp = await checkpointAt(c.edit.seq);
          if (!cp) {
            c = { ...c, cpNext: c.edit.seq + 1 };
            continue;
          }
        }
        const e = await edits.peek();
        const v = await events.peek();
        let line: string;
        let advance: (() => void) | null;
        try {
          const cp = c.cpNext <= c.edit.seq ? await checkpointAt(c.edit.seq) : undefined;
          if (cp) {
            line = JSON.stringify(cp);
            advance = () => {
              c = { ...c, cpNext: cp.seq + 1, cpLast: cp.seq, skip: 0 };
            };
          } else if (e === undefined && v === undefined && c.cpLast < c.edit.seq && c.edit.seq === c.editCount) {
            // Every export carries a checkpoint of the head it ends at. Signed only here, once the
            // chain was recomputed from the stream and checked against the log all the way: a head
            // the stream does not bear out is never signed.
            const end = await signEnd(docId, c.edit.seq, c.edit.hash);
            line = JSON.stringify(end);
            advance = () => {
              c = { ...c, cpNext: c.edit.seq + 1, cpLast: c.edit.seq, skip: 0 };
            };
          } else if (e === undefined && v === undefined) {
            if (c.edit.seq < c.editCount) {
              throw new MismatchError({
                type: "error",
                code: "CHAIN_MISMATCH",
                chain: "edit",
                seq: c.edit.seq + 1,
                message: `edits ${c.edit.seq + 1} to ${c.editCount} are in the stored edit log but missing from the stream`,
              });
            }
            const end: AuditEndLine = { type: "end", edits: c.edit.seq, events: c.event.seq, editHead: c.edit.hash, eventHead: c.event.hash };
            line = JSON.stringify(end);
            advance = null;
          } else if (v !== undefined && (e === undefined || orderKey(v, eventTime) <= orderKey(e, editTime))) {
            const ev = eventLine(docId, c, v);
            line = JSON.stringify(ev);
            advance = () => {
              events.take();
              c = { ...c, event: { next: v.seq + 1, seq: ev.seq, hash: ev.hash }, skip: 0 };
            };
          } else {
            const msg = e as JsMsg;
            const ed = editLine(docId, c, msg, await logRow(c.edit.seq + 1));
            line = JSON.stringify(ed);
            advance = () => {
              edits.take();
              c = { ...c, edit: { next: msg.seq + 1, seq: ed.seq, hash: ed.hash }, skip: 0 };
            };
          }
        } catch (err) {
          if (!(err instanceof MismatchError)) throw err;
          ctx.log.warn({ docId, mismatch: err.line }, "audit export: the stored edit log and the stream disagree");
          // A half-sent line is ended first; nothing follows an error line.
          line = `${c.skip > 0 ? "\n" : ""}${JSON.stringify(err.line)}`;
          c = { ...c, skip: 0 };
          advance = null;
        }
        const rest = c.skip > 0 ? `${line}\n`.slice(c.skip) : `${line}\n`;
        const cost = replyBytes(rest);
        if (cost <= budget - used) {
          out.push(rest);
          used += cost;
          if (!advance) break; // the end line or an error line: the last of the trail
          advance();
          continue;
        }
        // It does not fit: leave it for the next page, unless it is an edit or event line that no page could hold.
        if (out.length > 0 && (cost <= budget || budget - used < 1024 || !advance)) {
          nextCursor = encodeCursor(c);
          break;
        }
        const piece = prefixWithin(rest, budget - used);
        out.push(piece);
        c = { ...c, skip: c.skip + piece.length };
        nextCursor = encodeCursor(c);
        break;
      }
    } finally {
      await edits.close();
      await events.close();
    }
    const body: AuditPage = { chunk: out.join(""), nextCursor };
    return { body };
  }

  return { page };
}
