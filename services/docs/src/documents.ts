import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { JetStreamClient } from "@nats-io/jetstream";
import {
  AccessInput,
  AppError,
  CreateDocBody,
  DocGetInput,
  ListDocsQuery,
  parse,
  subjects,
  type AccessResult,
  type DocView,
  type Page,
} from "@palimpsest/contracts";
import { appendEvent, newEvent, requireCaller, type RpcContext, type RpcResult } from "@palimpsest/platform";
import { applyDocsEvent } from "./docs-projection.ts";
import type { DocsDb } from "./schema.ts";

interface Cursor {
  u: string;
  id: string;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString("base64url");
}

function decodeCursor(text: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as Partial<Cursor>;
    if (typeof c.u === "string" && typeof c.id === "string" && !Number.isNaN(Date.parse(c.u))) return { u: c.u, id: c.id };
  } catch {
    // fall through
  }
  throw new AppError("VALIDATION_FAILED", "cursor is invalid");
}

/** Escapes LIKE wildcards so a search for "50%" finds that text. */
function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
}

export function createDocuments(db: Kysely<DocsDb>, js: JetStreamClient) {
  async function docFor(docId: string, userId: string): Promise<DocView | undefined> {
    const row = await db
      .selectFrom("documents as d")
      .innerJoin("document_members as m", (j) => j.onRef("m.doc_id", "=", "d.id").on("m.user_id", "=", userId))
      .select(["d.id", "d.title", "d.kind", "d.owner_id", "d.created_at", "d.updated_at", "m.role"])
      .where("d.id", "=", docId)
      .where("d.deleted_at", "is", null)
      .executeTakeFirst();
    return row && toView(row);
  }

  function toView(r: { id: string; title: string; kind: DocView["kind"]; owner_id: string; created_at: Date; updated_at: Date; role: DocView["role"] }): DocView {
    return { id: r.id, title: r.title, kind: r.kind, role: r.role, ownerId: r.owner_id, createdAt: r.created_at.toISOString(), updatedAt: r.updated_at.toISOString() };
  }

  return {
    async create(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const body = parse(CreateDocBody, input, "body");
      const title = body.title.trim();
      if (title.length === 0) throw new AppError("VALIDATION_FAILED", "title must not be empty");
      const docId = randomUUID();
      const event = newEvent("doc.created.v1", { docId, title, kind: body.kind ?? "text", ownerId: caller.userId }, caller.userId);
      const { seq } = await appendEvent(js, subjects.docEvents(docId), event, { expectedSeq: 0 });
      await applyDocsEvent(db, event, seq);
      const view = await docFor(docId, caller.userId);
      if (!view) throw new AppError("INTERNAL", "created document is not readable");
      return { status: 201, body: view };
    },

    async list(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const query = parse(ListDocsQuery, input ?? {}, "query");
      const limit = query.limit ?? 50;
      let q = db
        .selectFrom("documents as d")
        .innerJoin("document_members as m", "m.doc_id", "d.id")
        .select(["d.id", "d.title", "d.kind", "d.owner_id", "d.created_at", "d.updated_at", "m.role"])
        .where("m.user_id", "=", caller.userId)
        .where("d.deleted_at", "is", null);
      if (query.q && query.q.trim()) q = q.where("d.title", "ilike", likePattern(query.q.trim()));
      if (query.cursor) {
        const c = decodeCursor(query.cursor);
        const at = new Date(c.u);
        q = q.where((eb) => eb.or([eb("d.updated_at", "<", at), eb.and([eb("d.updated_at", "=", at), eb("d.id", "<", c.id)])]));
      }
      const rows = await q.orderBy("d.updated_at", "desc").orderBy("d.id", "desc").limit(limit + 1).execute();
      const items = rows.slice(0, limit).map(toView);
      const last = items[items.length - 1];
      const page: Page<DocView> = { items, nextCursor: rows.length > limit && last ? encodeCursor({ u: last.updatedAt, id: last.id }) : null };
      return { body: page };
    },

    async get(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const { id } = parse(DocGetInput, input, "params");
      const view = await docFor(id, caller.userId);
      // A stranger learns nothing, not even that the document exists.
      if (!view) throw new AppError("NOT_FOUND", "document not found");
      return { body: view };
    },

    async access(input: unknown): Promise<RpcResult> {
      const { docId, userId } = parse(AccessInput, input, "access query");
      const row = await db
        .selectFrom("documents as d")
        .leftJoin("document_members as m", (j) => j.onRef("m.doc_id", "=", "d.id").on("m.user_id", "=", userId))
        .select(["d.kind", "m.role"])
        .where("d.id", "=", docId)
        .where("d.deleted_at", "is", null)
        .executeTakeFirst();
      const result: AccessResult = { role: row?.role ?? null, kind: row ? row.kind : null };
      return { body: result };
    },
  };
}
