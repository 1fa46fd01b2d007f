import type { JsMsg } from "@nats-io/jetstream";
import type { Kysely, Transaction } from "kysely";
import { decodeEditHead, subjectDocId, type AnyDomainEvent } from "@palimpsest/contracts";
import { decodeEvent } from "@palimpsest/platform";
import type { DocsDb } from "./schema.ts";

type Db = Kysely<DocsDb> | Transaction<DocsDb>;

/**
 * Applies one DOCS event to the read model. Idempotent: the document row carries the version
 * (stream sequence) of the last event applied, and an event at or below it changes nothing,
 * so the command path (right after appending) and the projector (from the stream) can both apply it.
 * Every timestamp comes from the event, so a rebuild produces the same rows.
 *
 * The projector reads the stream in order, so "newer than the row" is enough for it. A command
 * path is not in order: two commands on one document append seq 9 and 10, and the second may
 * apply first, after which 9 would count as already applied and be lost. So a command path passes
 * `previousSeq` (the version its append expected) and applies only an event that directly follows
 * the row; anything else is left to the projector. Answers whether the row now holds the event.
 */
export async function applyDocsEvent(db: Db, event: AnyDomainEvent, seq: number, previousSeq?: number): Promise<boolean> {
  const at = new Date(event.at);
  if (event.type === "doc.created.v1") {
    const d = event.data;
    const inserted = await db
      .insertInto("documents")
      .values({ id: d.docId, title: d.title, kind: d.kind, owner_id: d.ownerId, created_at: at, updated_at: at, trashed_at: null, version: seq })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if (inserted.numInsertedOrUpdatedRows === 0n) return true;
    await db.insertInto("document_members").values({ doc_id: d.docId, user_id: d.ownerId, role: "owner", added_at: at }).onConflict((oc) => oc.doNothing()).execute();
    return true;
  }
  if (!("docId" in event.data)) return true;
  const docId = (event.data as { docId: string }).docId;
  // Claim the version first: if this event (or a later one) is already applied, stop here.
  let claim = db.updateTable("documents").set({ version: seq, updated_at: at }).where("id", "=", docId);
  claim = previousSeq === undefined ? claim.where("version", "<", seq) : claim.where("version", "=", previousSeq);
  const claimed = await claim.executeTakeFirst();
  if (claimed.numUpdatedRows === 0n) {
    if (previousSeq === undefined) return true;
    const row = await db.selectFrom("documents").select("version").where("id", "=", docId).executeTakeFirst();
    // A purged document has no row: nothing is left to apply to.
    return !row || row.version >= seq;
  }
  await applyClaimed(db, event, docId, at, seq);
  return true;
}

async function applyClaimed(db: Db, event: AnyDomainEvent, docId: string, at: Date, seq: number): Promise<void> {
  switch (event.type) {
    case "doc.renamed.v1":
      await db.updateTable("documents").set({ title: event.data.title }).where("id", "=", docId).execute();
      return;
    case "doc.moved.v1":
      await db.updateTable("documents").set({ workspace_id: event.data.to }).where("id", "=", docId).execute();
      return;
    case "doc.trashed.v1":
      await db.updateTable("documents").set({ trashed_at: at }).where("id", "=", docId).execute();
      return;
    case "doc.untrashed.v1":
      await db.updateTable("documents").set({ trashed_at: null }).where("id", "=", docId).execute();
      return;
    case "doc.purged.v1":
      // Gone for everyone: no list, no trash, no members. The events stay in the stream.
      await db.deleteFrom("document_members").where("doc_id", "=", docId).execute();
      await db.deleteFrom("document_invitations").where("doc_id", "=", docId).execute();
      await db.deleteFrom("named_versions").where("doc_id", "=", docId).execute();
      await db.deleteFrom("comments").where("doc_id", "=", docId).execute();
      await db.deleteFrom("webhooks").where("doc_id", "=", docId).execute();
      // History erases the document's edits and empties its head, so a rebuild has no last edit either.
      await db.deleteFrom("document_last_edit").where("doc_id", "=", docId).execute();
      await db.deleteFrom("documents").where("id", "=", docId).execute();
      return;
    case "doc.shared.v1": {
      const d = event.data;
      await db
        .insertInto("document_members")
        .values({ doc_id: docId, user_id: d.userId, role: d.role, added_at: at })
        .onConflict((oc) => oc.columns(["doc_id", "user_id"]).doUpdateSet({ role: d.role }))
        .execute();
      if (d.invitedEmail) await db.deleteFrom("document_invitations").where("doc_id", "=", docId).where("email", "=", d.invitedEmail).execute();
      return;
    }
    case "doc.invited.v1": {
      const d = event.data;
      await db
        .insertInto("document_invitations")
        .values({ doc_id: docId, email: d.email, role: d.role, invited_at: at, token_hash: null, expires_at: null })
        .onConflict((oc) => oc.columns(["doc_id", "email"]).doUpdateSet({ role: d.role, token_hash: null, expires_at: null }))
        .execute();
      return;
    }
    case "doc.invited.v2": {
      const d = event.data;
      const link = { role: d.role, token_hash: d.tokenHash, expires_at: new Date(d.expiresAt) };
      await db
        .insertInto("document_invitations")
        .values({ doc_id: docId, email: d.email, invited_at: at, ...link })
        .onConflict((oc) => oc.columns(["doc_id", "email"]).doUpdateSet({ ...link, invited_at: at }))
        .execute();
      return;
    }
    case "doc.invitation-cancelled.v1":
      await db.deleteFrom("document_invitations").where("doc_id", "=", docId).where("email", "=", event.data.email).execute();
      return;
    case "doc.role-changed.v1":
      await db.updateTable("document_members").set({ role: event.data.role }).where("doc_id", "=", docId).where("user_id", "=", event.data.userId).execute();
      return;
    case "doc.member-removed.v1":
      await db.deleteFrom("document_members").where("doc_id", "=", docId).where("user_id", "=", event.data.userId).execute();
      return;
    case "doc.version-named.v1":
      await db
        .insertInto("named_versions")
        .values({ doc_id: docId, name: event.data.name, seq: event.data.seq, named_by: event.actorId ?? "", named_at: at, stream_seq: seq })
        .onConflict((oc) => oc.column("stream_seq").doNothing())
        .execute();
      return;
    case "comment.created.v1": {
      const d = event.data;
      await db
        .insertInto("comments")
        .values({
          id: d.commentId,
          doc_id: docId,
          thread_id: d.threadId ?? null,
          author_id: event.actorId ?? "",
          anchor: d.anchor ? JSON.stringify(d.anchor) : null,
          body: d.body,
          mentions: JSON.stringify(d.mentions),
          created_at: at,
          updated_at: at,
          resolved_at: null,
          resolved_by: null,
          stream_seq: seq,
        })
        .onConflict((oc) => oc.column("id").doNothing())
        .execute();
      // A reply opens a resolved thread again.
      if (d.threadId) await db.updateTable("comments").set({ resolved_at: null, resolved_by: null }).where("id", "=", d.threadId).where("resolved_at", "is not", null).execute();
      return;
    }
    case "comment.edited.v1":
      await db.updateTable("comments").set({ body: event.data.body, mentions: JSON.stringify(event.data.mentions), updated_at: at }).where("id", "=", event.data.commentId).execute();
      return;
    case "comment.deleted.v1":
      // A thread goes with its first comment.
      await db.deleteFrom("comments").where((eb) => eb.or([eb("id", "=", event.data.commentId), eb("thread_id", "=", event.data.commentId)])).execute();
      return;
    case "comment.resolved.v1":
      await db.updateTable("comments").set({ resolved_at: at, resolved_by: event.actorId ?? null }).where("id", "=", event.data.commentId).execute();
      return;
    case "comment.reopened.v1":
      await db.updateTable("comments").set({ resolved_at: null, resolved_by: null }).where("id", "=", event.data.commentId).execute();
      return;
    case "webhook.registered.v1": {
      const d = event.data;
      await db
        .insertInto("webhooks")
        .values({
          id: d.webhookId,
          doc_id: docId,
          host: d.host,
          sealed_url: d.sealedUrl,
          events: JSON.stringify(d.events),
          created_by: event.actorId ?? "",
          created_at: at,
          registered_seq: seq,
          edit_version: d.editVersion,
          disabled_at: null,
          disabled_reason: null,
        })
        .onConflict((oc) => oc.column("id").doNothing())
        .execute();
      return;
    }
    case "webhook.deleted.v1":
      await db.deleteFrom("webhooks").where("id", "=", event.data.webhookId).execute();
      return;
    case "webhook.disabled.v1":
      await db.updateTable("webhooks").set({ disabled_at: at, disabled_reason: event.data.reason }).where("id", "=", event.data.webhookId).execute();
      return;
    case "webhook.enabled.v1":
      await db.updateTable("webhooks").set({ disabled_at: null, disabled_reason: null }).where("id", "=", event.data.webhookId).execute();
      return;
    case "doc.ownership-transferred.v1": {
      const d = event.data;
      await db.updateTable("documents").set({ owner_id: d.toUserId }).where("id", "=", docId).execute();
      // As evolve: both get a share of their own, whether or not they had one (the new owner may
      // have reached it through its workspace).
      for (const [userId, role] of [[d.fromUserId, "editor"], [d.toUserId, "owner"]] as const) {
        await db
          .insertInto("document_members")
          .values({ doc_id: docId, user_id: userId, role, added_at: at })
          .onConflict((oc) => oc.columns(["doc_id", "user_id"]).doUpdateSet({ role }))
          .execute();
      }
      return;
    }
    default:
      return;
  }
}

export async function applyDocsBatch(trx: Transaction<DocsDb>, msgs: JsMsg[]): Promise<void> {
  for (const m of msgs) await applyDocsEvent(trx, decodeEvent(m), m.seq);
}

/** AUTH events → the users mirror used for sharing by email and for member lists. */
export async function applyUsersBatch(trx: Transaction<DocsDb>, msgs: JsMsg[]): Promise<void> {
  for (const m of msgs) {
    const event = decodeEvent(m);
    if (event.type !== "user.registered.v1") continue;
    const d = event.data;
    await trx.insertInto("doc_users").values({ id: d.userId, email: d.email, name: d.name }).onConflict((oc) => oc.doNothing()).execute();
  }
}

/**
 * EDIT_HEADS → the time of each document's last edit, one row write per document per batch. The
 * stream holds one head per document, written by history as its edit log takes the edits in, so
 * this follows a few messages per edited document per second, not every edit; an empty head (the
 * document was erased) removes the row.
 */
export async function applyEditHeadsBatch(trx: Transaction<DocsDb>, msgs: JsMsg[]): Promise<void> {
  const latest = new Map<string, Date | null>();
  for (const m of msgs) {
    const docId = subjectDocId.editHead(m.subject);
    if (!docId) continue;
    const head = decodeEditHead(m.data);
    // Written only by history (bus permissions); a head that does not read is skipped, not fatal.
    if (head === undefined) continue;
    const at = head === null ? null : new Date(head.at);
    const prev = latest.get(docId);
    // In stream order: an erasure after a head wins, and so does a head after an erasure.
    latest.set(docId, at === null || prev === undefined || prev === null || at > prev ? at : prev);
  }
  const erased = [...latest].filter(([, at]) => at === null).map(([docId]) => docId);
  const heads = [...latest].flatMap(([docId, at]) => (at === null ? [] : [{ doc_id: docId, last_edit_at: at }]));
  if (erased.length > 0) await trx.deleteFrom("document_last_edit").where("doc_id", "in", erased).execute();
  if (heads.length === 0) return;
  // One statement for the whole batch; a head never moves a document's time back.
  await trx
    .insertInto("document_last_edit")
    .values(heads)
    .onConflict((oc) =>
      oc
        .column("doc_id")
        .doUpdateSet({ last_edit_at: (eb) => eb.ref("excluded.last_edit_at") })
        .whereRef("document_last_edit.last_edit_at", "<", "excluded.last_edit_at"),
    )
    .execute();
}
