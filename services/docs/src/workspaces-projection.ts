import type { JsMsg } from "@nats-io/jetstream";
import type { Kysely, Transaction } from "kysely";
import type { AnyDomainEvent } from "@palimpsest/contracts";
import { decodeEvent } from "@palimpsest/platform";
import type { DocsDb } from "./schema.ts";

type Db = Kysely<DocsDb> | Transaction<DocsDb>;

/**
 * Applies one workspace event to the read model; idempotent like applyDocsEvent: the workspace
 * row carries the version of the last event applied, and a command path passes `previousSeq` so
 * it applies only the event that directly follows the row. Answers whether the row holds it.
 */
export async function applyWorkspaceEvent(db: Db, event: AnyDomainEvent, seq: number, previousSeq?: number): Promise<boolean> {
  const at = new Date(event.at);
  if (event.type === "workspace.created.v1") {
    await db.insertInto("workspaces").values({ id: event.data.workspaceId, name: event.data.name, created_at: at, version: seq }).onConflict((oc) => oc.doNothing()).execute();
    return true;
  }
  if (!("workspaceId" in event.data)) return true;
  const workspaceId = (event.data as { workspaceId: string }).workspaceId;
  let claim = db.updateTable("workspaces").set({ version: seq }).where("id", "=", workspaceId);
  claim = previousSeq === undefined ? claim.where("version", "<", seq) : claim.where("version", "=", previousSeq);
  if ((await claim.executeTakeFirst()).numUpdatedRows === 0n) {
    if (previousSeq === undefined) return true;
    const row = await db.selectFrom("workspaces").select("version").where("id", "=", workspaceId).executeTakeFirst();
    return !row || row.version >= seq;
  }
  switch (event.type) {
    case "workspace.renamed.v1":
      await db.updateTable("workspaces").set({ name: event.data.name }).where("id", "=", workspaceId).execute();
      return true;
    case "workspace.deleted.v1":
      // Its trashed documents go back to their owners: nobody reaches them through it any more.
      await db.deleteFrom("workspace_members").where("workspace_id", "=", workspaceId).execute();
      await db.deleteFrom("workspace_invitations").where("workspace_id", "=", workspaceId).execute();
      await db.deleteFrom("workspaces").where("id", "=", workspaceId).execute();
      return true;
    case "workspace.member-added.v1":
    case "workspace.role-changed.v1": {
      const d = event.data;
      await db
        .insertInto("workspace_members")
        .values({ workspace_id: workspaceId, user_id: d.userId, role: d.role, added_at: at })
        .onConflict((oc) => oc.columns(["workspace_id", "user_id"]).doUpdateSet({ role: d.role }))
        .execute();
      return true;
    }
    case "workspace.invited.v1": {
      const d = event.data;
      const link = { role: d.role, token_hash: d.tokenHash, expires_at: new Date(d.expiresAt), invited_at: at };
      await db
        .insertInto("workspace_invitations")
        .values({ workspace_id: workspaceId, email: d.email, ...link })
        .onConflict((oc) => oc.columns(["workspace_id", "email"]).doUpdateSet(link))
        .execute();
      return true;
    }
    case "workspace.invitation-cancelled.v1":
      await db.deleteFrom("workspace_invitations").where("workspace_id", "=", workspaceId).where("email", "=", event.data.email).execute();
      return true;
    case "workspace.invitation-accepted.v1": {
      const d = event.data;
      await db.deleteFrom("workspace_invitations").where("workspace_id", "=", workspaceId).where("email", "=", d.email).execute();
      await db
        .insertInto("workspace_members")
        .values({ workspace_id: workspaceId, user_id: d.userId, role: d.role, added_at: at })
        .onConflict((oc) => oc.columns(["workspace_id", "user_id"]).doUpdateSet({ role: d.role }))
        .execute();
      return true;
    }
    case "workspace.member-removed.v1":
      await db.deleteFrom("workspace_members").where("workspace_id", "=", workspaceId).where("user_id", "=", event.data.userId).execute();
      return true;
    default:
      return true;
  }
}

export async function applyWorkspacesBatch(trx: Transaction<DocsDb>, msgs: JsMsg[]): Promise<void> {
  for (const m of msgs) await applyWorkspaceEvent(trx, decodeEvent(m), m.seq);
}
