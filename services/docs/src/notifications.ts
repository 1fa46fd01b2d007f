import { sql, type Kysely } from "kysely";
import type { JetStreamClient } from "@nats-io/jetstream";
import { MarkReadBody, NotificationSettings, NotificationsQuery, parse, subjects, type NotificationList, type NotificationView } from "@palimpsest/contracts";
import { appendEvent, newEvent, requireCaller, type RpcContext, type RpcResult } from "@palimpsest/platform";
import type { DocsDb } from "./schema.ts";

/** At most this many ids in one read event (the event's schema says so too). */
const READ_BATCH = 500;

/** A person's notifications: `GET /api/notifications` and `POST /api/notifications/read`. */
export function createNotifications(db: Kysely<DocsDb>, js: JetStreamClient) {
  /** Only what the person may still read: a document they left, or that went to the trash, says nothing more. */
  function visible(userId: string) {
    return db
      .selectFrom("notifications as n")
      .innerJoin("documents as d", "d.id", "n.doc_id")
      .innerJoin("document_access as m", (j) => j.onRef("m.doc_id", "=", "n.doc_id").on("m.user_id", "=", userId))
      .where("n.user_id", "=", userId)
      .where("d.trashed_at", "is", null);
  }

  async function markRead(userId: string, ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += READ_BATCH) {
      const chunk = ids.slice(i, i + READ_BATCH);
      const event = newEvent("notification.read.v1", { userId, ids: chunk }, userId);
      await appendEvent(js, subjects.inbox(userId), event);
      // Read what you wrote: the projection applies the same a moment later, and changes nothing then.
      await db.updateTable("notifications").set({ read_at: new Date(event.at) }).where("user_id", "=", userId).where("id", "in", chunk).where("read_at", "is", null).execute();
    }
  }

  return {
    async list(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const q = parse(NotificationsQuery, input ?? {}, "query");
      const limit = q.limit ?? 50;
      // One notification per person per event: the event's stream sequence orders a person's inbox and pages it.
      let rows = visible(caller.userId)
        .leftJoin("doc_users as u", "u.id", "n.actor_id")
        .select(["n.id", "n.type", "n.doc_id", "n.comment_id", "n.actor_id", "n.excerpt", "n.at", "n.read_at", "n.stream_seq", "d.title", "d.kind", "u.name"])
        .orderBy("n.stream_seq", "desc")
        .limit(limit + 1);
      if (q.unread) rows = rows.where("n.read_at", "is", null);
      if (q.cursor) rows = rows.where("n.stream_seq", "<", Number(q.cursor));
      const [page, unread] = await Promise.all([
        rows.execute(),
        visible(caller.userId).where("n.read_at", "is", null).select(sql<number>`count(*)::int`.as("n")).executeTakeFirst(),
      ]);
      const items = page.slice(0, limit);
      const last = items[items.length - 1];
      const list: NotificationList = {
        items: items.map(
          (r): NotificationView => ({
            id: r.id,
            type: r.type,
            docId: r.doc_id,
            docTitle: r.title,
            docKind: r.kind,
            ...(r.comment_id ? { commentId: r.comment_id } : {}),
            actorId: r.actor_id,
            actorName: r.name ?? "",
            ...(r.excerpt ? { excerpt: r.excerpt } : {}),
            at: r.at.toISOString(),
            read: r.read_at !== null,
          }),
        ),
        unread: Number(unread?.n ?? 0),
        ...(page.length > limit && last ? { nextCursor: String(last.stream_seq) } : {}),
      };
      return { body: list };
    },

    async settings(_input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const row = await db.selectFrom("notification_settings").select("email").where("user_id", "=", caller.userId).executeTakeFirst();
      const settings: NotificationSettings = { email: row?.email ?? "all" };
      return { body: settings };
    },

    async changeSettings(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const body = parse(NotificationSettings, input, "body");
      const event = newEvent("notification.settings-changed.v1", { userId: caller.userId, email: body.email }, caller.userId);
      await appendEvent(js, subjects.inbox(caller.userId), event);
      // Read what you wrote, as for reads.
      await db
        .insertInto("notification_settings")
        .values({ user_id: caller.userId, email: body.email })
        .onConflict((oc) => oc.column("user_id").doUpdateSet({ email: body.email }))
        .execute();
      const settings: NotificationSettings = { email: body.email };
      return { body: settings };
    },

    async markRead(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const body = parse(MarkReadBody, input, "body");
      // Only ids of one's own: someone else's notification ids change nothing (and say nothing).
      let q = db.selectFrom("notifications").select("id").where("user_id", "=", caller.userId).where("read_at", "is", null);
      if (!body.all) q = q.where("id", "in", body.ids ?? []);
      const ids = (await q.execute()).map((r) => r.id);
      if (ids.length > 0) await markRead(caller.userId, ids);
      return { status: 204, body: null };
    },
  };
}
