import { sql, type Kysely, type Transaction } from "kysely";
import type { JetStreamClient } from "@nats-io/jetstream";
import { Counter } from "prom-client";
import { NotificationTypes, subjects } from "@palimpsest/contracts";
import { appendEvent, newEvent, queueMail, wakeableSleep, type Logger, type Metrics } from "@palimpsest/platform";
import { composeNotificationMail, MAIL_BATCH_LIMIT, settingsMailing, type MailedNotification } from "./notification-mail.ts";
import type { DocsDb } from "./schema.ts";

/** A notification older than this is never emailed: after a long outage, or a change of setting, old news stays in the inbox. */
const MAIL_HORIZON_MS = 86_400_000;
/** People mailed per round; the rest are next. */
const PEOPLE_PER_ROUND = 100;

export interface NotificationMailerOptions {
  db: Kysely<DocsDb>;
  js: JetStreamClient;
  log: Logger;
  metrics: Metrics;
  /** See NOTIFICATION_MAIL_DELAY_SECONDS. */
  delayMs: number;
  publicUrl: string;
}

export interface NotificationMailer {
  stop(): Promise<void>;
}

/**
 * Emails people their notifications, batched: a notification waits `delayMs` (read in the app
 * meanwhile, it is not mailed), and a person gets at most one such email per `delayMs`, holding
 * everything that came meanwhile. Every replica runs this; a per-person advisory lock makes one of
 * them send each batch. The email goes through the outbox, and which notifications it carried is
 * an event on the person's inbox subject, so a rebuilt read model does not mail them again.
 */
export function runNotificationMailer(opts: NotificationMailerOptions): NotificationMailer {
  const { db, js, delayMs, publicUrl } = opts;
  const log = opts.log.child({ component: "notification-mailer" });
  const mails = new Counter({ name: "docs_notification_mails_total", help: "notification emails queued in the outbox", registers: [opts.metrics.registry] });
  const mailedNotifications = new Counter({ name: "docs_notifications_mailed_total", help: "notifications carried by those emails", registers: [opts.metrics.registry] });
  const { sleep, wake } = wakeableSleep();
  const roundMs = Math.min(10_000, Math.max(200, delayMs / 4));
  let stopped = false;

  /** A person's notifications that are due by email: unread, unmailed, recent, on a document they still see, of a kind they want. */
  function mailable(q: Kysely<DocsDb> | Transaction<DocsDb>, since: Date) {
    return q
      .selectFrom("notifications as n")
      .innerJoin("documents as d", "d.id", "n.doc_id")
      .innerJoin("document_access as m", (j) => j.onRef("m.doc_id", "=", "n.doc_id").onRef("m.user_id", "=", "n.user_id"))
      .leftJoin("notification_settings as s", "s.user_id", "n.user_id")
      .where("n.mailed_at", "is", null)
      .where("n.read_at", "is", null)
      .where("n.at", ">", since)
      .where("d.trashed_at", "is", null)
      .where((eb) =>
        eb.or(
          NotificationTypes.map((type) =>
            eb.and([eb("n.type", "=", type), eb(sql<string>`coalesce(s.email, 'all')`, "in", settingsMailing(type))]),
          ),
        ),
      );
  }

  async function round(): Promise<void> {
    const now = Date.now();
    const since = new Date(now - MAIL_HORIZON_MS);
    const due = new Date(now - delayMs);
    const people = await mailable(db, since)
      // Mailed since `due`: the next email waits.
      .where((eb) => eb.not(eb.exists(eb.selectFrom("notifications as x").select(sql<number>`1`.as("one")).whereRef("x.user_id", "=", "n.user_id").where("x.mailed_at", ">", due))))
      .select("n.user_id")
      .groupBy("n.user_id")
      .having((eb) => eb.fn.min("n.at"), "<=", due)
      .limit(PEOPLE_PER_ROUND)
      .execute();
    for (const { user_id } of people) {
      if (stopped) return;
      try {
        await mailOne(user_id, since, due);
      } catch (err) {
        log.warn({ err, userId: user_id }, "could not email notifications; trying again next round");
      }
    }
  }

  async function mailOne(userId: string, since: Date, due: Date): Promise<void> {
    await db.transaction().execute(async (trx) => {
      const locked = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(hashtext(${`notification-mail:${userId}`})) as locked`.execute(trx);
      if (!locked.rows[0]?.locked) return;
      // Again under the lock: another replica may have mailed this person a moment ago.
      const recently = await trx.selectFrom("notifications").select("id").where("user_id", "=", userId).where("mailed_at", ">", due).limit(1).executeTakeFirst();
      if (recently) return;
      const [recipient, rows] = await Promise.all([
        trx.selectFrom("doc_users").select(["id", "email", "name"]).where("id", "=", userId).executeTakeFirst(),
        mailable(trx, since)
          .where("n.user_id", "=", userId)
          .leftJoin("doc_users as u", "u.id", "n.actor_id")
          .select(["n.id", "n.type", "n.doc_id", "n.excerpt", "n.stream_seq", "d.title", "d.kind", "u.name"])
          .orderBy("n.stream_seq", "asc")
          .limit(MAIL_BATCH_LIMIT)
          .execute(),
      ]);
      if (!recipient || rows.length === 0) return;
      const batch: MailedNotification[] = rows.map((r) => ({
        id: r.id,
        type: r.type,
        docId: r.doc_id,
        docTitle: r.title,
        docKind: r.kind,
        actorName: r.name ?? "",
        excerpt: r.excerpt,
        streamSeq: Number(r.stream_seq),
      }));
      await queueMail(js, composeNotificationMail({ userId, email: recipient.email, name: recipient.name }, batch, publicUrl));
      const ids = batch.map((n) => n.id);
      const event = newEvent("notification.mailed.v1", { userId, ids });
      await appendEvent(js, subjects.inbox(userId), event);
      // The projection records the same a moment later; here at once, so the next round does not mail them again.
      await trx.updateTable("notifications").set({ mailed_at: new Date(event.at) }).where("user_id", "=", userId).where("id", "in", ids).where("mailed_at", "is", null).execute();
      mails.inc();
      mailedNotifications.inc(ids.length);
      log.info({ userId, notifications: ids.length }, "notifications emailed");
    });
  }

  const loop = (async () => {
    while (!stopped) {
      try {
        await round();
      } catch (err) {
        log.warn({ err }, "notification mail round failed");
      }
      if (!stopped) await sleep(roundMs);
    }
  })();

  return {
    async stop() {
      stopped = true;
      wake();
      await loop;
    },
  };
}
