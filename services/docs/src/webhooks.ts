import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { JetStreamManager } from "@nats-io/jetstream";
import {
  AppError,
  DocCommandInput,
  RegisterWebhookBody,
  ReplayWebhookBody,
  Streams,
  WebhookCommandInput,
  WebhookDeliveriesInput,
  can,
  decodeEditHead,
  parse,
  subjects,
  type RegisteredWebhook,
  type WebhookDeliveryList,
  type WebhookDeliveryView,
  type WebhookList,
  type WebhookReplayResult,
  type WebhookView,
} from "@palimpsest/contracts";
import { requireSessionCaller, type RpcContext, type RpcResult } from "@palimpsest/platform";
import { idempotentId, type DocumentStore } from "./document-store.ts";
import { effectiveRole, roleOf } from "./domain/document.ts";
import { checkTargetUrl, type PrivateTargetPolicy } from "./webhook-targets.ts";
import { resolveAndCheck } from "./webhook-http.ts";
import type { WebhookDeliveries } from "./webhook-deliveries.ts";
import type { AccessCache } from "./access-cache.ts";
import type { ApplyStored } from "./read-your-writes.ts";
import type { Selectable } from "kysely";
import type { DocsDb, WebhooksTable } from "./schema.ts";

type WebhookRow = Selectable<WebhooksTable>;

const DEFAULT_PAGE = 20;

/**
 * A document's webhooks: RPC handlers behind `/api/docs/:id/webhooks` and `/api/webhooks/:id`.
 * Only the owner manages them: a member who is not gets FORBIDDEN, as with the document's other
 * owner-only calls, and anyone else hears NOT_FOUND, as for a made-up id.
 */
export function createWebhooks(deps: {
  db: Kysely<DocsDb>;
  store: DocumentStore;
  jsm: JetStreamManager;
  cache: AccessCache;
  apply: ApplyStored;
  deliveries: WebhookDeliveries;
  policy: PrivateTargetPolicy;
}) {
  const { db, store, jsm, cache, apply, deliveries, policy } = deps;

  async function requireOwner(docId: string, userId: string): Promise<void> {
    const role = roleOf(await cache.state(docId), userId);
    if (!can(role, "manageWebhooks")) throw new AppError("FORBIDDEN", `a ${role} cannot manage this document's webhooks`);
  }

  /** The webhook, for its document's owner; NOT_FOUND for anyone who cannot see the document. */
  async function hookFor(webhookId: string, userId: string): Promise<WebhookRow> {
    const row = await db.selectFrom("webhooks").selectAll().where("id", "=", webhookId).executeTakeFirst();
    const state = row ? await cache.state(row.doc_id) : undefined;
    if (!row || !state || !state.exists || state.trashed || effectiveRole(state, userId) === null) throw new AppError("NOT_FOUND", "webhook not found");
    await requireOwner(row.doc_id, userId);
    return row;
  }

  const view = (r: WebhookRow): WebhookView => ({
    id: r.id,
    docId: r.doc_id,
    // Sealed under another key (WEBHOOK_SIGNING_KEY changed): its host, and why there is no more.
    url: deliveries.urls.open(r.sealed_url, r.id) ?? `https://${r.host}/ (unreadable: the service's webhook key changed)`,
    events: r.events,
    createdAt: r.created_at.toISOString(),
    disabled: r.disabled_at !== null,
    ...(r.disabled_at ? { disabledAt: r.disabled_at.toISOString(), disabledReason: r.disabled_reason ?? "" } : {}),
  });

  /** The document's edit version now: `doc.edited` deliveries cover the edits after it. */
  async function editVersionOf(docId: string): Promise<number> {
    const m = await jsm.streams.getMessage(Streams.editHeads, { last_by_subj: subjects.editHead(docId) });
    const head = m ? decodeEditHead(m.data) : undefined;
    return head ? head.seq : 0;
  }

  return {
    async list(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      // A webhook sends the document's news elsewhere for good: only its owner, signed in, sets one up or changes it, never a script's token.
      const caller = requireSessionCaller(ctx);
      const { id } = parse(DocCommandInput, input, "request");
      await requireOwner(id, caller.userId);
      const rows = await db.selectFrom("webhooks").selectAll().where("doc_id", "=", id).orderBy("registered_seq").execute();
      const list: WebhookList = { items: rows.map(view) };
      return { body: list };
    },

    async register(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireSessionCaller(ctx);
      const i = parse(DocCommandInput, input, "request");
      const body = parse(RegisterWebhookBody, i.body, "body");
      // Who may not manage the document's webhooks learns nothing of where a URL points.
      await requireOwner(i.id, caller.userId);
      const target = checkTargetUrl(body.url, policy);
      if (!target.ok) throw new AppError(target.refused ? "WEBHOOK_TARGET_REFUSED" : "VALIDATION_FAILED", target.reason);
      if (!target.literal) {
        const resolved = await resolveAndCheck(target.hostname, policy);
        if (!resolved.ok) throw new AppError("WEBHOOK_TARGET_REFUSED", resolved.reason);
      }
      const webhookId = i.idempotencyKey ? idempotentId([caller.userId, "webhook", i.id, i.idempotencyKey]) : randomUUID();
      await store.execute(
        i.id,
        { type: "register-webhook", webhookId, host: target.url.host, sealedUrl: deliveries.urls.seal(target.url.href, webhookId), events: body.events, editVersion: await editVersionOf(i.id) },
        caller.userId,
        { ...(i.idempotencyKey ? { idempotencyKey: i.idempotencyKey } : {}), apply: (event, seq, prev) => apply(i.id, event, seq, prev) },
      );
      const row = await db.selectFrom("webhooks").selectAll().where("id", "=", webhookId).executeTakeFirst();
      if (!row) throw new AppError("UNAVAILABLE", "the webhook was stored but is not readable yet; list the document's webhooks in a moment");
      const answer: RegisteredWebhook = { ...view(row), secret: deliveries.secretOf(webhookId) };
      return { status: 201, body: answer };
    },

    async remove(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireSessionCaller(ctx);
      const { id } = parse(WebhookCommandInput, input, "request");
      const hook = await hookFor(id, caller.userId);
      await store.execute(hook.doc_id, { type: "delete-webhook", webhookId: id }, caller.userId, { apply: (event, seq, prev) => apply(hook.doc_id, event, seq, prev) });
      return { status: 204, body: null };
    },

    async deliveries(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireSessionCaller(ctx);
      const q = parse(WebhookDeliveriesInput, input, "query");
      await hookFor(q.id, caller.userId);
      const limit = q.limit ?? DEFAULT_PAGE;
      let rows = db
        .selectFrom("webhook_deliveries")
        .select(["id", "seq", "type", "status", "created_at", "next_attempt_at"])
        .where("webhook_id", "=", q.id)
        .orderBy("seq", "desc")
        .limit(limit + 1);
      if (q.cursor) rows = rows.where("seq", "<", q.cursor);
      const page = await rows.execute();
      const items = page.slice(0, limit);
      const attempts = items.length
        ? await db.selectFrom("webhook_attempts").selectAll().where("delivery_id", "in", items.map((r) => r.id)).orderBy("at", "desc").execute()
        : [];
      const list: WebhookDeliveryList = {
        items: items.map(
          (r): WebhookDeliveryView => ({
            id: r.id,
            type: r.type,
            status: r.status === "collecting" ? "pending" : r.status,
            createdAt: r.created_at.toISOString(),
            ...(r.status === "pending" || r.status === "collecting" ? { nextAttemptAt: r.next_attempt_at.toISOString() } : {}),
            attempts: attempts
              .filter((a) => a.delivery_id === r.id)
              .map((a) => ({ at: a.at.toISOString(), ...(a.status_code !== null ? { statusCode: a.status_code } : {}), ...(a.error !== null ? { error: a.error } : {}), durationMs: a.duration_ms })),
          }),
        ),
        ...(page.length > limit ? { nextCursor: String(items[items.length - 1]!.seq) } : {}),
      };
      return { body: list };
    },

    async replay(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireSessionCaller(ctx);
      const i = parse(WebhookCommandInput, input, "request");
      const body = parse(ReplayWebhookBody, i.body ?? {}, "body");
      const hook = await hookFor(i.id, caller.userId);
      // Replaying is what the owner does once the receiver is fixed: a disabled endpoint is on again.
      if (hook.disabled_at !== null) {
        await store.execute(hook.doc_id, { type: "enable-webhook", webhookId: i.id }, caller.userId, { apply: (event, seq, prev) => apply(hook.doc_id, event, seq, prev) });
      }
      const result: WebhookReplayResult = { replayed: await deliveries.replay(i.id, body.from) };
      return { status: 202, body: result };
    },
  };
}
