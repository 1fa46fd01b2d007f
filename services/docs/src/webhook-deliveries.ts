import { sql, type Kysely } from "kysely";
import type { JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import { Counter, Histogram } from "prom-client";
import { AppError, Permissions, Streams, decodeEditHead, subjectDocId, subjects, type WebhookEventType } from "@palimpsest/contracts";
import { decodeEvent, runDurableWorker, wakeableSleep, type DurableWorker, type Logger, type Metrics } from "@palimpsest/platform";
import { deliveryBody, editedMessage, webhookMessageOf } from "./webhook-events.ts";
import { webhookUrlSeal, type WebhookUrlSeal } from "./webhook-url-seal.ts";
import { deliveryId, endpointSecret, signedHeaders } from "./webhook-signing.ts";
import { nextAttemptAt } from "./webhook-retry-schedule.ts";
import { postOnce, type AttemptResult } from "./webhook-http.ts";
import type { DocumentStore } from "./document-store.ts";
import type { ApplyStored } from "./read-your-writes.ts";
import type { DocsConfig } from "./config.ts";
import type { DocsDb } from "./schema.ts";

/** Deliveries one replica sends at once; a slow receiver holds one slot for up to the timeout. */
const MAX_IN_FLIGHT = 16;
/** A claimed delivery is this much longer than the timeout someone else's to take, should its replica die mid-send. */
const LEASE_MARGIN_MS = 30_000;

export interface WebhookDeliveries {
  /** The signing secret of an endpoint (derived, see webhook-signing.ts). */
  secretOf(webhookId: string): string;
  /** Seals and opens the webhooks' URLs, under the same service key. */
  readonly urls: WebhookUrlSeal;
  /** Queues an endpoint's deliveries to be sent again, with their own ids; answers how many. */
  replay(webhookId: string, from: string | undefined): Promise<number>;
  stop(): Promise<void>;
}

interface Deps {
  db: Kysely<DocsDb>;
  js: JetStreamClient;
  jsm: JetStreamManager;
  store: DocumentStore;
  apply: ApplyStored;
  log: Logger;
  metrics: Metrics;
  config: DocsConfig;
}

/**
 * Webhook deliveries, at least once, across restarts and replicas:
 *
 * - two durable JetStream consumers shared by the replicas turn events into delivery rows (one
 *   per endpoint and event, keyed by the message's `webhook-id`, so a redelivered event is queued
 *   once): `docs-webhooks` over the DOCS stream (document, comment and file events), and
 *   `docs-webhook-edits` over EDIT_HEADS, whose one message per document is the newest edit
 *   version; a consumer that falls behind skips heads that were replaced, which only coalesces more;
 * - every replica sends what is due, claiming rows with `FOR UPDATE SKIP LOCKED` and a lease, so
 *   two replicas never send one row at once and a replica that dies mid-send leaves it to another;
 * - a failure schedules the next attempt in the row (not in a timer), so a restart loses none.
 */
/** How stale the set of documents with a `doc.edited` endpoint may be. */
const WATCHED_REFRESH_MS = 1_000;

export function startWebhookDeliveries(deps: Deps): WebhookDeliveries {
  const { db, js, jsm, store, apply, config } = deps;
  const log = deps.log.child({ part: "webhooks" });
  const serverKey = Buffer.from(config.webhookSigningKey, "base64");
  const urls = webhookUrlSeal(serverKey);
  const { sleep, wake } = wakeableSleep();
  let stopped = false;
  /** Sends under way: a graceful stop lets them finish (each ends within the timeout) and record their outcome, instead of leaving their rows leased. */
  const sending = new Set<Promise<void>>();

  const sent = new Counter({ name: "webhook_delivery_attempts_total", help: "webhook delivery attempts by outcome", labelNames: ["outcome"], registers: [deps.metrics.registry] });
  const finished = new Counter({ name: "webhook_deliveries_total", help: "webhook deliveries finished, by result (delivered, failed after every retry)", labelNames: ["result"], registers: [deps.metrics.registry] });
  const disabledTotal = new Counter({ name: "webhook_endpoints_disabled_total", help: "webhook endpoints disabled after repeated failures", registers: [deps.metrics.registry] });
  const duration = new Histogram({
    name: "webhook_delivery_duration_seconds",
    help: "time from sending a webhook to its answer (or failure)",
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [deps.metrics.registry],
  });

  async function titleOf(docId: string): Promise<string | undefined> {
    return (await db.selectFrom("documents").select("title").where("id", "=", docId).executeTakeFirst())?.title;
  }

  /**
   * Active endpoints of a document that asked for `type`, whose registrant may still manage its
   * webhooks: one registered through a workspace role hears nothing more once that role is gone.
   */
  function endpoints(docId: string, type: WebhookEventType) {
    // The access check as a condition on the endpoints found: most documents have none, and then
    // it is never evaluated (every edit's head asks).
    return db
      .selectFrom("webhooks")
      .selectAll("webhooks")
      .where("webhooks.doc_id", "=", docId)
      .where(({ exists, selectFrom }) =>
        exists(
          selectFrom("document_access as a")
            .select("a.user_id")
            .whereRef("a.doc_id", "=", "webhooks.doc_id")
            .whereRef("a.user_id", "=", "webhooks.created_by")
            .where("a.role", "in", [...Permissions.manageWebhooks]),
        ),
      )
      .where("webhooks.disabled_at", "is", null)
      .where(sql<boolean>`webhooks.events @> ${JSON.stringify([type])}::jsonb`);
  }

  async function onDocsEvent(m: JsMsg): Promise<"done"> {
    const docId = subjectDocId.docEvents(m.subject) ?? subjectDocId.fileEvents(m.subject);
    if (!docId) return "done";
    const event = decodeEvent(m);
    // A deleted endpoint's log goes with it, and so does everything of a purged document.
    if (event.type === "webhook.deleted.v1" || event.type === "doc.purged.v1") {
      const which = event.type === "webhook.deleted.v1" ? (["webhook_id", event.data.webhookId] as const) : (["doc_id", docId] as const);
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom("webhook_attempts").where("delivery_id", "in", trx.selectFrom("webhook_deliveries").select("id").where(which[0], "=", which[1])).execute();
        await trx.deleteFrom("webhook_deliveries").where(which[0], "=", which[1]).execute();
      });
      return "done";
    }
    const probe = webhookMessageOf(event, undefined);
    if (!probe) return "done";
    // An endpoint hears of what was stored after it was registered, never before.
    const hooks = await endpoints(docId, probe.type).where("webhooks.registered_seq", "<", m.seq).execute();
    if (hooks.length === 0) return "done";
    const message = webhookMessageOf(event, await titleOf(docId))!;
    const now = new Date();
    const body = deliveryBody(message, event.at);
    await db
      .insertInto("webhook_deliveries")
      .values(
        hooks.map((h) => ({
          id: deliveryId(h.id, `docs:${m.seq}`),
          webhook_id: h.id,
          doc_id: docId,
          type: message.type,
          payload: body,
          status: "pending" as const,
          attempts: 0,
          round_started_at: now,
          next_attempt_at: now,
          leased_until: null,
          created_at: now,
          edit_from: null,
          edit_to: null,
        })),
      )
      .onConflict((oc) => oc.column("id").doNothing())
      .execute();
    wake();
    return "done";
  }

  /**
   * A document's newest edit version → each endpoint's open edit window: the first edit after the
   * last window opens one, due at once or an interval after the previous window; until it is sent,
   * newer versions widen it. So an endpoint hears at most once per interval per document.
   */
  async function onEditHead(m: JsMsg): Promise<"done"> {
    const docId = subjectDocId.editHead(m.subject);
    const head = docId ? decodeEditHead(m.data) : undefined;
    if (!docId || !head) return "done";
    // Every edited document's head passes here several times a second; most have no endpoint.
    if (!(await editWatched()).has(docId)) return "done";
    await takeHead(docId, head);
    return "done";
  }

  /**
   * Documents with an active endpoint for `doc.edited`, read again at most once a
   * WATCHED_REFRESH_MS (one query, not one per head). A document that joins the set had its
   * endpoint registered meanwhile: its newest head is taken in then, so the edits made before the
   * set knew of it are delivered even if no other edit follows.
   */
  let watched: { at: number; docs: Promise<ReadonlySet<string>> } | undefined;
  function editWatched(): Promise<ReadonlySet<string>> {
    if (watched && Date.now() - watched.at < WATCHED_REFRESH_MS) return watched.docs;
    const previous = watched?.docs;
    const docs = (async () => {
      const rows = await db
        .selectFrom("webhooks")
        .select("doc_id")
        .distinct()
        .where("disabled_at", "is", null)
        .where(sql<boolean>`events @> ${JSON.stringify(["doc.edited"])}::jsonb`)
        .execute();
      const next = new Set(rows.map((r) => r.doc_id));
      const before = previous ? await previous.catch(() => new Set<string>()) : new Set<string>();
      for (const docId of next) if (!before.has(docId)) void newestHead(docId);
      return next;
    })();
    const entry = { at: Date.now(), docs };
    watched = entry;
    docs.catch(() => {
      if (watched === entry) watched = undefined;
    });
    return docs;
  }

  async function newestHead(docId: string): Promise<void> {
    try {
      const m = await jsm.streams.getMessage(Streams.editHeads, { last_by_subj: subjects.editHead(docId) });
      const head = m ? decodeEditHead(m.data) : undefined;
      if (head) await takeHead(docId, head);
    } catch (err) {
      // The document's next edit brings a head anyway.
      log.warn({ err, docId }, "could not read a newly watched document's newest edit");
    }
  }

  async function takeHead(docId: string, head: NonNullable<ReturnType<typeof decodeEditHead>>): Promise<void> {
    const hooks = await endpoints(docId, "doc.edited").where("webhooks.edit_version", "<", head.seq).execute();
    if (hooks.length === 0) return;
    const title = await titleOf(docId);
    const now = new Date();
    for (const h of hooks) {
      const last = await db
        .selectFrom("webhook_deliveries")
        .select(["edit_to", "round_started_at", "attempts", "status"])
        .where("webhook_id", "=", h.id)
        .where("type", "=", "doc.edited")
        .orderBy("seq", "desc")
        .limit(1)
        .executeTakeFirst();
      const open = last?.status === "collecting";
      const covered = Number(last?.edit_to ?? h.edit_version);
      if (head.seq <= covered) continue;
      if (open) {
        const widened = await db
          .updateTable("webhook_deliveries")
          .set({ edit_to: sql<number>`greatest(edit_to, ${head.seq})`, payload: deliveryBody(editedMessage(docId, title, 0, head.seq, head.at), head.at) })
          .where("webhook_id", "=", h.id)
          .where("status", "=", "collecting")
          .executeTakeFirst();
        if (widened.numUpdatedRows > 0n) continue;
        // The window was claimed for sending since it was read: these edits open the next one.
      }
      const from = covered + 1;
      const due = new Date(Math.max(now.getTime(), last ? last.round_started_at.getTime() + config.webhookEditIntervalMs : 0));
      await db
        .insertInto("webhook_deliveries")
        .values({
          id: deliveryId(h.id, `edits:${from}`),
          webhook_id: h.id,
          doc_id: docId,
          type: "doc.edited",
          payload: deliveryBody(editedMessage(docId, title, from, head.seq, head.at), head.at),
          status: "collecting",
          attempts: 0,
          // An edit window's round starts when it is due: the next window is an interval after it.
          round_started_at: due,
          next_attempt_at: due,
          leased_until: null,
          created_at: now,
          edit_from: from,
          edit_to: head.seq,
        })
        .onConflict((oc) => oc.column("id").doNothing())
        .execute();
    }
    wake();
  }

  interface Claimed {
    id: string;
    webhook_id: string;
    doc_id: string;
    type: WebhookEventType;
    status: "pending" | "collecting";
    payload: string;
    attempts: number;
    round_started_at: Date;
    edit_from: string | null;
    edit_to: string | null;
    sealed_url: string;
  }

  async function claim(limit: number): Promise<Claimed[]> {
    const now = new Date();
    return db.transaction().execute(async (trx) => {
      const rows = await sql<Claimed>`
        select d.id, d.webhook_id, d.doc_id, d.type, d.status, d.payload, d.attempts, d.round_started_at, d.edit_from, d.edit_to, w.sealed_url
        from webhook_deliveries d join webhooks w on w.id = d.webhook_id
        where d.status in ('pending', 'collecting') and d.next_attempt_at <= ${now} and (d.leased_until is null or d.leased_until < ${now}) and w.disabled_at is null
        order by d.next_attempt_at
        limit ${limit}
        for update of d skip locked`.execute(trx);
      if (rows.rows.length === 0) return [];
      const leasedUntil = new Date(now.getTime() + config.webhookTimeoutMs + LEASE_MARGIN_MS);
      for (const r of rows.rows) {
        // An edit window stops collecting once it is first sent: its body is fixed from here on.
        if (r.status === "collecting" && r.edit_from !== null && r.edit_to !== null) {
          const body = JSON.parse(r.payload) as { data: Record<string, unknown> };
          body.data["fromVersion"] = Number(r.edit_from);
          body.data["toVersion"] = Number(r.edit_to);
          r.payload = JSON.stringify(body);
        }
        await trx.updateTable("webhook_deliveries").set({ status: "pending", leased_until: leasedUntil, attempts: r.attempts + 1, payload: r.payload }).where("id", "=", r.id).execute();
      }
      return rows.rows;
    });
  }

  async function send(d: Claimed): Promise<void> {
    const at = new Date();
    const headers = signedHeaders(endpointSecret(serverKey, d.webhook_id), d.id, at, d.payload);
    const url = urls.open(d.sealed_url, d.webhook_id);
    const result: AttemptResult =
      url === undefined
        ? { error: "the webhook's URL cannot be read with this WEBHOOK_SIGNING_KEY (was the key changed?)", durationMs: 0 }
        : await postOnce({ url, body: d.payload, headers, timeoutMs: config.webhookTimeoutMs, policy: config.webhookAllowPrivateTargets });
    const ok = result.statusCode !== undefined && result.statusCode >= 200 && result.statusCode < 300;
    sent.inc({ outcome: ok ? "success" : "failure" });
    duration.observe(result.durationMs / 1_000);
    const attemptsMade = d.attempts + 1;
    const next = ok ? undefined : nextAttemptAt({ scheduleMs: config.webhookRetryScheduleMs, attemptsMade, roundStartedAt: d.round_started_at, now: new Date(), maxAgeMs: config.webhookRetryForMs });
    const status = ok ? "delivered" : next ? "pending" : "failed";
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto("webhook_attempts")
        .values({ delivery_id: d.id, at, status_code: result.statusCode ?? null, error: result.error ?? null, duration_ms: result.durationMs })
        .execute();
      await trx
        .updateTable("webhook_deliveries")
        .set({ status, leased_until: null, ...(next ? { next_attempt_at: next } : {}) })
        .where("id", "=", d.id)
        .execute();
    });
    if (status === "pending") return;
    finished.inc({ result: status });
    if (status === "failed") await disableIfFailing(d.webhook_id, d.doc_id, result);
  }

  /** The endpoint's last deliveries all failed for good: it is turned off and its owner told (a notification). */
  async function disableIfFailing(webhookId: string, docId: string, last: AttemptResult): Promise<void> {
    const recent = await db
      .selectFrom("webhook_deliveries")
      .select("status")
      .where("webhook_id", "=", webhookId)
      .where("status", "in", ["delivered", "failed"])
      .orderBy("seq", "desc")
      .limit(config.webhookDisableAfter)
      .execute();
    if (recent.length < config.webhookDisableAfter || recent.some((r) => r.status !== "failed")) return;
    const why = last.statusCode !== undefined ? `HTTP ${last.statusCode}` : (last.error ?? "no answer");
    const reason = `the last ${config.webhookDisableAfter} deliveries failed after every retry (last: ${why})`.slice(0, 500);
    for (let attempt = 1; ; attempt++) {
      try {
        const { events } = await store.execute(docId, { type: "disable-webhook", webhookId, reason }, "", { apply: (event, seq, prev) => apply(docId, event, seq, prev) });
        if (events.length > 0) {
          disabledTotal.inc();
          log.warn({ webhookId, docId }, "webhook disabled after repeated failures");
        }
        return;
      } catch (err) {
        if (!(err instanceof AppError && err.code === "CONFLICT") || attempt >= 5) throw err;
      }
    }
  }

  const sender = (async () => {
    while (!stopped) {
      try {
        const free = MAX_IN_FLIGHT - sending.size;
        const claimed = free > 0 ? await claim(free) : [];
        for (const d of claimed) {
          const p: Promise<void> = send(d)
            .catch((err: unknown) => log.error({ err, deliveryId: d.id }, "recording a webhook attempt failed; the lease runs out and it is sent again"))
            .finally(() => {
              sending.delete(p);
              wake();
            });
          sending.add(p);
        }
        if (claimed.length === 0) await sleep(config.webhookPollMs);
      } catch (err) {
        if (stopped) break;
        log.error({ err }, "looking for due webhook deliveries failed");
        await sleep(config.webhookPollMs);
      }
    }
  })();

  const workers: DurableWorker[] = [
    runDurableWorker({
      js,
      jsm,
      log,
      spec: { durable: "docs-webhooks", stream: Streams.docs, filterSubject: subjects.allDocsStream(), ackWaitMs: 30_000, maxDeliver: 20, inFlight: 64, startAt: "new", handle: onDocsEvent },
    }),
    runDurableWorker({
      js,
      jsm,
      log,
      spec: { durable: "docs-webhook-edits", stream: Streams.editHeads, filterSubject: subjects.allEditHeads(), ackWaitMs: 30_000, maxDeliver: 20, inFlight: 64, startAt: "new", handle: onEditHead },
    }),
  ];

  // Read again on a clock too, not only as heads arrive: an endpoint registered right after the
  // last edit anywhere still gets it.
  const watchClock = setInterval(() => {
    editWatched().catch((err: unknown) => log.warn({ err }, "could not read which documents have doc.edited endpoints"));
  }, WATCHED_REFRESH_MS);
  watchClock.unref();

  return {
    secretOf: (webhookId) => endpointSecret(serverKey, webhookId),
    urls,

    async replay(webhookId, from) {
      const now = new Date();
      let q = db
        .updateTable("webhook_deliveries")
        .set({ status: "pending", attempts: 0, round_started_at: now, next_attempt_at: now, leased_until: null })
        .where("webhook_id", "=", webhookId);
      if (from === undefined) q = q.where("status", "=", "failed");
      else {
        // What is still being sent is left to its round.
        q = q.where("status", "in", ["delivered", "failed"]);
        if (from.startsWith("msg_")) {
          const start = await db.selectFrom("webhook_deliveries").select("seq").where("id", "=", from).where("webhook_id", "=", webhookId).executeTakeFirst();
          if (!start) throw new AppError("NOT_FOUND", "no delivery of this webhook has that id");
          q = q.where("seq", ">=", start.seq);
        } else q = q.where("created_at", ">=", new Date(from));
      }
      const res = await q.executeTakeFirst();
      wake();
      return Number(res.numUpdatedRows);
    },

    async stop() {
      stopped = true;
      clearInterval(watchClock);
      wake();
      await Promise.all(workers.map((w) => w.stop()));
      await sender;
      await Promise.allSettled([...sending]);
    },
  };
}
