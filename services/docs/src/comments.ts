import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import {
  AppError,
  CommentCommandInput,
  CommentsInput,
  CreateCommentBody,
  DocCommandInput,
  ReplyBody,
  UpdateCommentBody,
  parse,
  type CommentList,
  type CommentThreadView,
  type CommentView,
  type EventPayload,
} from "@palimpsest/contracts";
import { requireCaller, type RpcContext, type RpcResult } from "@palimpsest/platform";
import type { Caller } from "@palimpsest/contracts";
import { idempotentId, type DocumentStore, type Executed } from "./document-store.ts";
import { effectiveRole, roleOf, type DocCommand } from "./domain/document.ts";
import type { AccessCache } from "./access-cache.ts";
import type { ApplyStored } from "./read-your-writes.ts";
import type { DocsDb } from "./schema.ts";

/**
 * Comments on a document change it (each is an event on its subject), so two people commenting
 * at once make one of the two appends a conflict. Comments do not depend on each other: the
 * loser decides again on the newer document, a few times, before the conflict reaches anyone.
 */
const CONFLICT_RETRIES = 8;

/** Comment threads: RPC handlers behind `/api/docs/:id/comments` and `/api/comments/:id`. */
export function createComments(db: Kysely<DocsDb>, store: DocumentStore, cache: AccessCache, apply: ApplyStored) {
  async function execute(docId: string, command: DocCommand, caller: Caller, idempotencyKey?: string): Promise<Executed> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await store.execute(docId, command, caller.userId, {
          ...(idempotencyKey ? { idempotencyKey } : {}),
          scopes: caller.token?.scopes,
          apply: (event, seq, previousSeq) => apply(docId, event, seq, previousSeq),
        });
      } catch (err) {
        if (!(err instanceof AppError && err.code === "CONFLICT" && err.message !== "comment already exists") || attempt >= CONFLICT_RETRIES) throw err;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
      }
    }
  }

  /**
   * The document a comment is on, for a caller who can read it. For anyone else the comment does
   * not exist: a stranger hears what a made-up id gets, and learns nothing of the document.
   */
  async function docOf(commentId: string, userId: string): Promise<string> {
    const row = await db.selectFrom("comments").select("doc_id").where("id", "=", commentId).executeTakeFirst();
    const state = row ? await cache.state(row.doc_id) : undefined;
    if (!row || !state || !state.exists || state.trashed || effectiveRole(state, userId) === null) throw new AppError("NOT_FOUND", "comment not found");
    return row.doc_id;
  }

  /** A document's threads, oldest first, each with its replies in order. */
  async function threads(docId: string, filter: { status?: "open" | "resolved" | "all"; threadId?: string } = {}): Promise<CommentThreadView[]> {
    let q = db
      .selectFrom("comments as c")
      .leftJoin("doc_users as u", "u.id", "c.author_id")
      .select(["c.id", "c.thread_id", "c.author_id", "c.anchor", "c.body", "c.mentions", "c.created_at", "c.updated_at", "c.resolved_at", "c.resolved_by", "u.name"])
      .where("c.doc_id", "=", docId);
    if (filter.threadId) q = q.where((eb) => eb.or([eb("c.id", "=", filter.threadId!), eb("c.thread_id", "=", filter.threadId!)]));
    const rows = await q.orderBy("c.stream_seq").execute();
    const view = (r: (typeof rows)[number]): CommentView => ({
      id: r.id,
      body: r.body,
      authorId: r.author_id,
      authorName: r.name ?? "",
      mentions: r.mentions,
      createdAt: r.created_at.toISOString(),
      updatedAt: r.updated_at.toISOString(),
    });
    const byId = new Map<string, CommentThreadView>();
    for (const r of rows) {
      if (r.thread_id !== null) continue;
      byId.set(r.id, {
        ...view(r),
        docId,
        ...(r.anchor ? { anchor: r.anchor } : {}),
        resolved: r.resolved_at !== null,
        ...(r.resolved_at ? { resolvedAt: r.resolved_at.toISOString(), resolvedBy: r.resolved_by ?? "" } : {}),
        replies: [],
      });
    }
    for (const r of rows) if (r.thread_id !== null) byId.get(r.thread_id)?.replies.push(view(r));
    const status = filter.status ?? "all";
    return [...byId.values()].filter((t) => status === "all" || t.resolved === (status === "resolved"));
  }

  async function thread(docId: string, threadId: string): Promise<CommentThreadView> {
    const [found] = await threads(docId, { threadId });
    if (!found) throw new AppError("NOT_FOUND", "comment not found");
    return found;
  }

  /**
   * A new comment as its stored event says. The read model may not hold it yet when the command's
   * apply gave up waiting for an earlier event on the document; the caller still hears what was
   * stored, never a 404 for it.
   */
  async function storedComment(executed: Executed, commentId: string): Promise<CommentThreadView | undefined> {
    const stored = executed.events.find((e) => e.event.type === "comment.created.v1" && (e.event.data as EventPayload<"comment.created.v1">).commentId === commentId);
    if (!stored) return undefined;
    const { event } = stored;
    const d = event.data as EventPayload<"comment.created.v1">;
    const authorId = event.actorId ?? "";
    const author = await db.selectFrom("doc_users").select("name").where("id", "=", authorId).executeTakeFirst();
    return {
      id: commentId,
      body: d.body,
      authorId,
      authorName: author?.name ?? "",
      mentions: d.mentions,
      createdAt: event.at,
      updatedAt: event.at,
      docId: d.docId,
      ...(d.anchor ? { anchor: d.anchor } : {}),
      resolved: false,
      replies: [],
    };
  }

  /** The thread a comment is in, once the command's events are in the read model. */
  function threadIdOf(state: Executed["state"], commentId: string): string {
    return state.comments.get(commentId)?.threadId ?? commentId;
  }

  const trimmed = (body: string): string => {
    const text = body.trim();
    if (!text) throw new AppError("VALIDATION_FAILED", "a comment must say something");
    return text;
  };

  return {
    async list(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const { id, status } = parse(CommentsInput, input, "query");
      roleOf(await cache.state(id), caller.userId);
      // The version first: the threads read after it hold at least what it says, so a page told
      // of a newer version (a notice) knows this answer is older and asks again.
      const version = (await db.selectFrom("documents").select("version").where("id", "=", id).executeTakeFirst())?.version ?? 0;
      const list: CommentList = { items: await threads(id, status ? { status } : {}), version: Number(version) };
      return { body: list };
    },

    async add(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const i = parse(DocCommandInput, input, "request");
      const body = parse(CreateCommentBody, i.body, "body");
      const commentId = i.idempotencyKey ? idempotentId([caller.userId, "comment", i.id, i.idempotencyKey]) : randomUUID();
      const executed = await execute(
        i.id,
        { type: "add-comment", commentId, body: trimmed(body.body), mentions: body.mentions ?? [], ...(body.anchor ? { anchor: body.anchor } : {}) },
        caller,
        i.idempotencyKey,
      );
      const [found] = await threads(i.id, { threadId: commentId });
      const created = found ?? (await storedComment(executed, commentId));
      if (!created) throw new AppError("NOT_FOUND", "comment not found");
      return { status: 201, body: created };
    },

    async reply(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const i = parse(CommentCommandInput, input, "request");
      const body = parse(ReplyBody, i.body, "body");
      const docId = await docOf(i.id, caller.userId);
      const commentId = i.idempotencyKey ? idempotentId([caller.userId, "reply", i.id, i.idempotencyKey]) : randomUUID();
      const executed = await execute(docId, { type: "reply", commentId, to: i.id, body: trimmed(body.body), mentions: body.mentions ?? [] }, caller, i.idempotencyKey);
      const [found] = await threads(docId, { threadId: threadIdOf(executed.state, commentId) });
      const asReply = (c: CommentThreadView | undefined): CommentView | undefined =>
        c && { id: c.id, body: c.body, authorId: c.authorId, authorName: c.authorName, mentions: c.mentions, createdAt: c.createdAt, updatedAt: c.updatedAt };
      const reply = found?.replies.find((r) => r.id === commentId) ?? asReply(await storedComment(executed, commentId));
      if (!reply) throw new AppError("NOT_FOUND", "comment not found");
      return { status: 201, body: reply };
    },

    async update(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const i = parse(CommentCommandInput, input, "request");
      const body = parse(UpdateCommentBody, i.body, "body");
      if (body.mentions !== undefined && body.body === undefined) throw new AppError("VALIDATION_FAILED", "mentions change with the text: send the body too");
      const docId = await docOf(i.id, caller.userId);
      let state: Executed["state"] | undefined;
      if (body.body !== undefined) {
        const edit: DocCommand = { type: "edit-comment", commentId: i.id, body: trimmed(body.body), ...(body.mentions ? { mentions: body.mentions } : {}) };
        ({ state } = await execute(docId, edit, caller, i.idempotencyKey));
      }
      if (body.resolved !== undefined) {
        ({ state } = await execute(docId, { type: "resolve-thread", commentId: i.id, resolved: body.resolved }, caller, i.idempotencyKey));
      }
      return { body: await thread(docId, threadIdOf(state!, i.id)) };
    },

    async remove(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const i = parse(CommentCommandInput, input, "request");
      const docId = await docOf(i.id, caller.userId);
      await execute(docId, { type: "delete-comment", commentId: i.id }, caller, i.idempotencyKey);
      return { status: 204, body: null };
    },
  };
}
