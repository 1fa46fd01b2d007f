import type { JsMsg } from "@nats-io/jetstream";
import type { Transaction } from "kysely";
import type { EventPayload } from "@palimpsest/contracts";
import { decodeEvent } from "@palimpsest/platform";
import type { DocsDb, NotificationsTable } from "./schema.ts";

/** How much of a comment a notification shows. */
const EXCERPT_CHARS = 140;

const excerptOf = (body: string): string => (body.length > EXCERPT_CHARS ? `${body.slice(0, EXCERPT_CHARS - 1)}…` : body);

/**
 * The DOCS stream → each person's notifications: a mention in a comment, a reply in a thread they
 * wrote or were mentioned in, a document shared with them; and, from their inbox's subject, which
 * ones they read, which went out by email, and which they want by email.
 * Nobody is notified of what they did themselves. A deleted comment or thread takes its
 * notifications with it, and so does a purged document.
 */
export async function applyNotificationsBatch(trx: Transaction<DocsDb>, msgs: JsMsg[]): Promise<void> {
  for (const m of msgs) {
    const event = decodeEvent(m);
    const at = new Date(event.at);
    const actor = event.actorId ?? "";
    const notify = async (rows: Omit<NotificationsTable, "id" | "at" | "read_at" | "mailed_at" | "stream_seq" | "actor_id">[]) => {
      const values = rows.filter((r) => r.user_id !== actor).map((r) => ({ ...r, id: `${m.seq}-${r.user_id}`, actor_id: actor, at, read_at: null, mailed_at: null, stream_seq: m.seq }));
      if (values.length > 0) await trx.insertInto("notifications").values(values).onConflict((oc) => oc.column("id").doNothing()).execute();
    };
    switch (event.type) {
      case "comment.created.v1": {
        const d = event.data as EventPayload<"comment.created.v1">;
        const threadId = d.threadId ?? d.commentId;
        const base = { doc_id: d.docId, comment_id: d.commentId, thread_id: threadId, excerpt: excerptOf(d.body) };
        const mentioned = new Set(d.mentions);
        const participants = d.threadId
          ? (await trx.selectFrom("thread_participants").select("user_id").where("thread_id", "=", threadId).execute()).map((r) => r.user_id).filter((u) => !mentioned.has(u))
          : [];
        // A mention says more than a reply: someone mentioned in a reply hears of the mention only.
        await notify([...[...mentioned].map((user_id) => ({ ...base, user_id, type: "mention" as const })), ...participants.map((user_id) => ({ ...base, user_id, type: "reply" as const }))]);
        // Who wrote in the thread, or was mentioned in it, hears of its replies from now on.
        const joined = [...new Set([actor, ...mentioned].filter((u) => u !== ""))].map((user_id) => ({ thread_id: threadId, user_id }));
        if (joined.length > 0) await trx.insertInto("thread_participants").values(joined).onConflict((oc) => oc.doNothing()).execute();
        await trx.insertInto("comment_threads").values({ comment_id: d.commentId, thread_id: threadId, doc_id: d.docId }).onConflict((oc) => oc.doNothing()).execute();
        break;
      }
      case "comment.edited.v1": {
        // The inboxes show what the comment says now, and whoever the new words mention hears of it.
        const d = event.data as EventPayload<"comment.edited.v1">;
        const excerpt = excerptOf(d.body);
        await trx.updateTable("notifications").set({ excerpt }).where("comment_id", "=", d.commentId).execute();
        const where = await trx.selectFrom("comment_threads").select(["thread_id", "doc_id"]).where("comment_id", "=", d.commentId).executeTakeFirst();
        if (!where) break;
        const told = new Set((await trx.selectFrom("notifications").select("user_id").where("comment_id", "=", d.commentId).where("type", "=", "mention").execute()).map((r) => r.user_id));
        const fresh = d.mentions.filter((u) => !told.has(u));
        await notify(fresh.map((user_id) => ({ user_id, type: "mention" as const, doc_id: where.doc_id, comment_id: d.commentId, thread_id: where.thread_id, excerpt })));
        if (fresh.length > 0) await trx.insertInto("thread_participants").values(fresh.map((user_id) => ({ thread_id: where.thread_id, user_id }))).onConflict((oc) => oc.doNothing()).execute();
        break;
      }
      case "comment.deleted.v1": {
        const d = event.data as EventPayload<"comment.deleted.v1">;
        await trx.deleteFrom("notifications").where((eb) => eb.or([eb("comment_id", "=", d.commentId), eb("thread_id", "=", d.commentId)])).execute();
        await trx.deleteFrom("thread_participants").where("thread_id", "=", d.commentId).execute();
        await trx.deleteFrom("comment_threads").where((eb) => eb.or([eb("comment_id", "=", d.commentId), eb("thread_id", "=", d.commentId)])).execute();
        break;
      }
      case "doc.shared.v1": {
        const d = event.data as EventPayload<"doc.shared.v1">;
        await notify([{ user_id: d.userId, type: "share", doc_id: d.docId, comment_id: null, thread_id: null, excerpt: null }]);
        break;
      }
      case "doc.purged.v1": {
        const d = event.data as EventPayload<"doc.purged.v1">;
        await trx.deleteFrom("notifications").where("doc_id", "=", d.docId).execute();
        await trx.deleteFrom("thread_participants").where("thread_id", "in", trx.selectFrom("comment_threads").select("thread_id").where("doc_id", "=", d.docId)).execute();
        await trx.deleteFrom("comment_threads").where("doc_id", "=", d.docId).execute();
        break;
      }
      case "webhook.disabled.v1": {
        // The owner set it up and is the only one who can look into it or replay it.
        const d = event.data as EventPayload<"webhook.disabled.v1">;
        await notify([{ user_id: d.ownerId, type: "webhook_disabled", doc_id: d.docId, comment_id: null, thread_id: null, excerpt: excerptOf(d.reason) }]);
        break;
      }
      case "notification.read.v1": {
        const d = event.data as EventPayload<"notification.read.v1">;
        await trx.updateTable("notifications").set({ read_at: at }).where("user_id", "=", d.userId).where("id", "in", d.ids).where("read_at", "is", null).execute();
        break;
      }
      case "notification.mailed.v1": {
        const d = event.data as EventPayload<"notification.mailed.v1">;
        await trx.updateTable("notifications").set({ mailed_at: at }).where("user_id", "=", d.userId).where("id", "in", d.ids).where("mailed_at", "is", null).execute();
        break;
      }
      case "notification.settings-changed.v1": {
        const d = event.data as EventPayload<"notification.settings-changed.v1">;
        await trx
          .insertInto("notification_settings")
          .values({ user_id: d.userId, email: d.email })
          .onConflict((oc) => oc.column("user_id").doUpdateSet({ email: d.email }))
          .execute();
        break;
      }
      default:
        break;
    }
  }
}
