import { randomUUID } from "node:crypto";
import { sql, type Kysely } from "kysely";
import type { NatsConnection } from "@nats-io/transport-node";
import { AppError, HistoryListInput, parse, rpc, type AccessResult, type ActivityItem, type EditView, type Page } from "@palimpsest/contracts";

/** Edits by one person with no pause longer than this form one editing session. */
const SESSION_GAP = "5 minutes";
import { callRpcOk, requireCaller, type RpcContext, type RpcResult } from "@palimpsest/platform";
import type { HistoryDb } from "./schema.ts";

export function createHistoryQueries(db: Kysely<HistoryDb>, nc: NatsConnection) {
  async function requireAccess(docId: string, userId: string, requestId: string): Promise<void> {
    const access = await callRpcOk<AccessResult>(nc, rpc.docs.access, { requestId: requestId || randomUUID(), input: { docId, userId } });
    if (!access.role) throw new AppError("NOT_FOUND", "document not found");
  }

  return {
    async list(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const q = parse(HistoryListInput, input, "query");
      await requireAccess(q.id, caller.userId, ctx.requestId);
      const limit = q.limit ?? 100;
      const rows = await db
        .selectFrom("edit_log")
        .select(["seq", "stream_seq", "at", "user_id", "client_id", "size"])
        .where("doc_id", "=", q.id)
        .where("seq", ">", q.after ?? 0)
        .orderBy("seq", "asc")
        .limit(limit + 1)
        .execute();
      const items: EditView[] = rows.slice(0, limit).map((r) => ({
        seq: r.seq,
        streamSeq: r.stream_seq,
        at: r.at.toISOString(),
        userId: r.user_id,
        clientId: r.client_id,
        size: r.size,
      }));
      const last = items[items.length - 1];
      const page: Page<EditView> = { items, nextCursor: rows.length > limit && last ? String(last.seq) : null };
      return { body: page };
    },

    /** Newest first: metadata events and editing sessions (who edited, from when to when). */
    async activity(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const q = parse(HistoryListInput, input, "query");
      await requireAccess(q.id, caller.userId, ctx.requestId);
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
            case when at - lag(at) over (partition by user_id order by seq) <= interval '${sql.raw(SESSION_GAP)}' then 0 else 1 end as starts
          from edit_log where doc_id = ${q.id}
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
