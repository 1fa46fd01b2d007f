import type { JsMsg } from "@nats-io/jetstream";
import type { Transaction } from "kysely";
import { decodeEvent } from "@palimpsest/platform";
import type { HistoryDb } from "./schema.ts";

/** DOCS events → each document's activity trail (created, renamed, shared, roles, trash, comments ..., and `file.uploaded`, `file.deleted` ...). */
export async function applyActivityBatch(trx: Transaction<HistoryDb>, msgs: JsMsg[]): Promise<void> {
  const rows = msgs.flatMap((m) => {
    const event = decodeEvent(m);
    const data = event.data as Record<string, unknown>;
    if (typeof data["docId"] !== "string") return [];
    const { docId, ...rest } = data;
    // A comment's words are read in the thread, where deleting it takes them away; the activity
    // says only that it happened.
    if (event.type.startsWith("comment.")) {
      delete rest["body"];
      delete rest["anchor"];
    }
    // A webhook's URL is sealed in its event (it can carry its receiver's own credential): the
    // activity names only its host. Its signing secret is in no event at all.
    if (event.type.startsWith("webhook.")) delete rest["sealedUrl"];
    return [{ doc_id: docId, stream_seq: m.seq, at: new Date(event.at), actor_id: event.actorId ?? null, type: event.type.replace(/^doc\./, "").replace(/\.v\d+$/, ""), data: JSON.stringify(rest) }];
  });
  if (rows.length) await trx.insertInto("doc_activity").values(rows).onConflict((oc) => oc.column("stream_seq").doNothing()).execute();
}
