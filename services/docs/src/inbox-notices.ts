import type { JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Kysely } from "kysely";
import { subjects, subjectUserId, type InboxChangedNotice } from "@palimpsest/contracts";
import type { DocsDb } from "./schema.ts";

/**
 * Tells the gateways whose inbox a committed batch of the notifications read model changed, so
 * those people's open pages read it again at once (`GET /api/notifications/live`). Core NATS: a
 * notice nobody hears is lost, and the page's own occasional re-read covers that.
 */
export function inboxNotices(nc: NatsConnection, db: Kysely<DocsDb>) {
  return async (msgs: JsMsg[]): Promise<void> => {
    const users = new Set<string>();
    const seqs: number[] = [];
    for (const m of msgs) {
      // A person's own inbox events (read elsewhere, mailed, settings): theirs alone.
      const own = subjectUserId.inbox(m.subject);
      if (own !== undefined) users.add(own);
      else seqs.push(m.seq);
    }
    if (seqs.length > 0) {
      const rows = await db.selectFrom("notifications").select("user_id").distinct().where("stream_seq", "in", seqs).execute();
      for (const r of rows) users.add(r.user_id);
    }
    const notice: InboxChangedNotice = { at: new Date().toISOString() };
    const payload = JSON.stringify(notice);
    for (const userId of users) nc.publish(subjects.inboxChanged(userId), payload);
  };
}
