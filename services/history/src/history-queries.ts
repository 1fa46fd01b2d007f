import type { Caller } from "@palimpsest/contracts";
import { sql, type Kysely } from "kysely";
import type { NatsConnection } from "@nats-io/transport-node";
import * as Y from "yjs";
import type { JetStreamClient } from "@nats-io/jetstream";
import {
  AppError,
  DiffInput,
  HeadInput,
  type DiffView,
  type RichDiff,
  HistoryListInput,
  SnapshotInput,
  SearchTextInput,
  searchableBody,
  type SearchTextView,
  VersionInput,
  parse,
  EDIT_SESSION_GAP_MS,
  type ActivityItem,
  type EditView,
  type Page,
  type SnapshotView,
  type VersionView,
} from "@palimpsest/contracts";
import { chunkChain, documentAt, headSeq, seqAt } from "./document-state.ts";
import { renderDocument, searchableText } from "./render-document.ts";
import { AttributedDiff } from "./attributed-diff.ts";
import { BoardChanges } from "./board-changes.ts";
import { RichDiffBuilder } from "./rich-diff.ts";
import { readEdits } from "./edit-reader.ts";
import type { SnapshotStore } from "./snapshot-store.ts";
import { requireCaller, requireDocPermission, throwIfAbandoned, type Logger, type RpcContext, type RpcResult } from "@palimpsest/platform";
import type { HistoryDb } from "./schema.ts";

/** Room left in a NATS message for the reply's headers. */
const REPLY_HEADROOM_BYTES = 64 * 1024;

/**
 * Sessions are found among this many newest edits (an index range on the log's primary key), so the
 * activity query costs the same on a document with millions of edits; older sessions are in `list`.
 */
const ACTIVITY_SCAN_EDITS = 10_000;

export interface HistoryQueryLimits {
  /** Most versions one diff walks. */
  diffMaxVersions: number;
  /** Most characters one diff renders in all, summed over the versions it walks. */
  diffMaxRenderedChars: number;
}

export function createHistoryQueries(db: Kysely<HistoryDb>, nc: NatsConnection, js: JetStreamClient, snapshots: SnapshotStore, log: Logger, limits: HistoryQueryLimits) {
  // History is for those who may read it (owners, editors, auditors): a viewer sees the document as it is now.
  const requireAccess = (docId: string, caller: Caller, requestId: string) =>
    requireDocPermission(nc, { docId, userId: caller.userId, scopes: caller.token?.scopes, requestId }, "history", "only owners, editors and auditors can read the document's history");

  return {
    async list(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const q = parse(HistoryListInput, input, "query");
      await requireAccess(q.id, caller, ctx.requestId);
      const limit = q.limit ?? 100;
      let query = db
        .selectFrom("edit_log")
        .select(["seq", "stream_seq", "at", "user_id", "client_id", "size", "via_token_id", "via_name"])
        .where("doc_id", "=", q.id)
        .where("seq", ">", q.after ?? 0);
      if (q.author) query = query.where("user_id", "=", q.author);
      if (q.from) query = query.where("at", ">=", new Date(q.from));
      if (q.to) query = query.where("at", "<", new Date(q.to));
      const rows = await query.orderBy("seq", "asc").limit(limit + 1).execute();
      const items: EditView[] = rows.slice(0, limit).map((r) => ({
        seq: r.seq,
        streamSeq: r.stream_seq,
        at: r.at.toISOString(),
        userId: r.user_id,
        clientId: r.client_id,
        size: r.size,
        ...(r.via_token_id ? { via: { tokenId: r.via_token_id, name: r.via_name ?? "" } } : {}),
      }));
      const last = items[items.length - 1];
      const page: Page<EditView> = { items, nextCursor: rows.length > limit && last ? String(last.seq) : null };
      return { body: page };
    },

    /** The document as it was after edit `seq` (or at time `at`): text, Markdown, board, Yjs state. */
    async version(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const q = parse(VersionInput, input, "query");
      await requireAccess(q.id, caller, ctx.requestId);
      const seq = q.seq ?? (q.at ? await seqAt(db, q.id, new Date(q.at)) : undefined);
      if (seq === undefined) throw new AppError("VALIDATION_FAILED", "give a version number or a time");
      const v = await documentAt(db, js, snapshots, q.id, seq);
      try {
        const started = performance.now();
        const rendered = renderDocument(v.doc);
        const view: VersionView = {
          seq: v.seq,
          at: v.at?.toISOString() ?? null,
          userId: v.userId,
          ...rendered,
          state: Buffer.from(Y.encodeStateAsUpdate(v.doc)).toString("base64"),
        };
        log.debug({ docId: q.id, seq, replayed: v.replayed, chunks: v.chunks, ms: { ...v.timings, render: performance.now() - started } }, "version built");
        return { body: view };
      } finally {
        v.doc.destroy();
      }
    },

    /**
     * What changed between two versions, each inserted or deleted run with its author. Attribution
     * renders the document after every version in the range, so the work is bounded up front (the
     * number of versions) and as it goes (characters rendered), and stops when the caller has gone.
     */
    async diff(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const q = parse(DiffInput, input, "query");
      await requireAccess(q.id, caller, ctx.requestId);
      if (q.to < q.from) throw new AppError("VALIDATION_FAILED", "to must not be before from");
      const tooLarge = () =>
        new AppError("DIFF_TOO_LARGE", `this range is too large to compare (at most ${limits.diffMaxVersions} versions, ${limits.diffMaxRenderedChars} characters rendered in all); choose a smaller range`, {
          details: { maxVersions: limits.diffMaxVersions, maxRenderedChars: limits.diffMaxRenderedChars },
        });
      if (q.to - q.from > limits.diffMaxVersions) throw tooLarge();
      const start = await documentAt(db, js, snapshots, q.id, q.from);
      const end = await db.selectFrom("edit_log").select("stream_seq").where("doc_id", "=", q.id).where("seq", "=", q.to).executeTakeFirst();
      if (q.to > 0 && !end) throw new AppError("NOT_FOUND", `version ${q.to} does not exist`);
      let rich: RichDiffBuilder | undefined;
      let boards: BoardChanges | undefined;
      try {
        throwIfAbandoned(ctx);
        let text = renderDocument(start.doc).text;
        let rendered = text.length;
        // Refuse before walking when the first version alone shows the range cannot fit.
        if (text.length * (q.to - q.from) > limits.diffMaxRenderedChars) throw tooLarge();
        // The same edits again on a copy that keeps what they delete: the changes shown in the formatted text.
        rich = new RichDiffBuilder(start.doc);
        boards = new BoardChanges(start.doc);
        const attributed = new AttributedDiff(text);
        const authors = new Set<string>();
        if (end && q.to > q.from) {
          for await (const e of readEdits(js, q.id, start.streamSeq + 1, end.stream_seq)) {
            throwIfAbandoned(ctx);
            boards.next(e.author);
            Y.applyUpdate(start.doc, e.update);
            rich.apply(e.update, e.author);
            const next = renderDocument(start.doc).text;
            rendered += next.length;
            if (rendered > limits.diffMaxRenderedChars) throw tooLarge();
            if (next !== text) authors.add(e.author);
            attributed.apply(text, next, e.author);
            text = next;
          }
        }
        // A board's cards changed without a word of text changing: their authors count too.
        const board = boards.result();
        for (const c of board ?? []) for (const a of c.authors) authors.add(a);
        const plain: DiffView = { from: q.from, to: q.to, segments: attributed.result(), authors: [...authors], ...(board ? { board } : {}) };
        // The reply must fit in a NATS message: the formatted diff goes when it fits, the text's changes alone otherwise.
        const maxBytes = (nc.info?.max_payload ?? 1024 * 1024) - REPLY_HEADROOM_BYTES;
        let richResult: RichDiff | undefined;
        try {
          richResult = rich.result();
        } catch (err) {
          log.warn({ err, docId: q.id, from: q.from, to: q.to }, "could not build the formatted diff; sending the text's changes only");
        }
        if (richResult) {
          const view: DiffView = { ...plain, rich: richResult };
          if (Buffer.byteLength(JSON.stringify(view)) <= maxBytes) return { body: view };
          log.info({ docId: q.id, from: q.from, to: q.to }, "formatted diff too large to send; sending the text's changes only");
        }
        if (Buffer.byteLength(JSON.stringify(plain)) > maxBytes) throw tooLarge();
        return { body: plain };
      } finally {
        rich?.destroy();
        boards?.destroy();
        start.doc.destroy();
      }
    },

    /** Internal: the newest version number of a document. */
    async head(input: unknown): Promise<RpcResult> {
      const { docId } = parse(HeadInput, input, "head query");
      return { body: { seq: await headSeq(db, docId) } };
    },

    /**
     * Internal, for the docs service's search index: the newest text. No caller: docs asks on
     * behalf of its index and filters what each reader may see at query time.
     */
    async searchText(input: unknown): Promise<RpcResult> {
      const { docId } = parse(SearchTextInput, input, "search text query");
      const seq = await headSeq(db, docId);
      if (seq === 0) return { body: { seq: 0, text: "" } satisfies SearchTextView };
      const v = await documentAt(db, js, snapshots, docId, seq);
      try {
        return { body: { seq: v.seq, text: searchableBody(searchableText(v.doc)) } satisfies SearchTextView };
      } finally {
        v.doc.destroy();
      }
    },

    /** Internal, for sync replicas: the newest snapshot, so a document opens without replaying everything. */
    async snapshot(input: unknown): Promise<RpcResult> {
      const { docId } = parse(SnapshotInput, input, "snapshot query");
      const snap = await snapshots.latest(docId);
      const chunks = await chunkChain(db, docId, snap?.seq ?? 0, Number.MAX_SAFE_INTEGER);
      const view: SnapshotView = {
        seq: snap?.seq ?? 0,
        streamSeq: snap?.streamSeq ?? 0,
        state: snap ? Buffer.from(snap.state).toString("base64") : null,
        chunks: chunks.map((c) => Buffer.from(c.update).toString("base64")),
        tailAfterStreamSeq: chunks.at(-1)?.to_stream_seq ?? snap?.streamSeq ?? 0,
      };
      return { body: view };
    },

    /** Newest first: metadata events and editing sessions (who edited, from when to when) among the newest edits. */
    async activity(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const q = parse(HistoryListInput, input, "query");
      await requireAccess(q.id, caller, ctx.requestId);
      const limit = q.limit ?? 100;
      const events = await db
        .selectFrom("doc_activity")
        .select(["at", "actor_id", "type", "data"])
        .where("doc_id", "=", q.id)
        .orderBy("stream_seq", "desc")
        .limit(limit)
        .execute();
      const sessions = await sql<{ user_id: string; started: Date; ended: Date; edits: number }>`
        with marked as (
          select user_id, at, seq,
            case when at - lag(at) over (partition by user_id order by seq) <= interval '${sql.raw(String(EDIT_SESSION_GAP_MS))} milliseconds' then 0 else 1 end as starts
          from (
            select user_id, at, seq from edit_log where doc_id = ${q.id} order by seq desc limit ${ACTIVITY_SCAN_EDITS}
          ) recent
        ), numbered as (
          select user_id, at, sum(starts) over (partition by user_id order by seq rows unbounded preceding) as session from marked
        )
        select user_id, min(at) as started, max(at) as ended, count(*)::int as edits
        from numbered group by user_id, session order by ended desc limit ${limit}`.execute(db);
      const items: ActivityItem[] = [
        ...events.map((e) => ({ at: e.at.toISOString(), userId: e.actor_id, type: e.type, data: (typeof e.data === "string" ? JSON.parse(e.data) : e.data) as Record<string, unknown> })),
        ...sessions.rows.map((s) => ({
          at: new Date(s.ended).toISOString(),
          userId: s.user_id,
          type: "edited",
          session: { from: new Date(s.started).toISOString(), to: new Date(s.ended).toISOString(), edits: Number(s.edits) },
        })),
      ]
        .sort((a, b) => b.at.localeCompare(a.at))
        .slice(0, limit);
      return { body: { items } };
    },
  };
}
