import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { NatsConnection } from "@nats-io/transport-node";
import { AppError, HistoryListInput, parse, rpc, type AccessResult, type EditView, type Page } from "@palimpsest/contracts";
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
  };
}
