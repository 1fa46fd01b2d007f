import type { JsMsg } from "@nats-io/jetstream";
import type { Kysely, Transaction } from "kysely";
import type { AnyDomainEvent } from "@palimpsest/contracts";
import { decodeEvent } from "@palimpsest/platform";
import type { DocsDb } from "./schema.ts";

type Db = Kysely<DocsDb> | Transaction<DocsDb>;

/** Applies one DOCS event to the read model; idempotent per (row, stream sequence). */
export async function applyDocsEvent(db: Db, event: AnyDomainEvent, seq: number): Promise<void> {
  switch (event.type) {
    case "doc.created.v1": {
      const d = event.data;
      const at = new Date(event.at);
      await db
        .insertInto("documents")
        .values({ id: d.docId, title: d.title, kind: d.kind, owner_id: d.ownerId, created_at: at, updated_at: at, deleted_at: null, version: seq })
        .onConflict((oc) => oc.doNothing())
        .execute();
      await db
        .insertInto("document_members")
        .values({ doc_id: d.docId, user_id: d.ownerId, role: "owner", added_at: at })
        .onConflict((oc) => oc.doNothing())
        .execute();
      return;
    }
    default:
      return;
  }
}

export async function applyDocsBatch(trx: Transaction<DocsDb>, msgs: JsMsg[]): Promise<void> {
  for (const m of msgs) await applyDocsEvent(trx, decodeEvent(m), m.seq);
}
