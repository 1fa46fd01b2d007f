import type { JsMsg } from "@nats-io/jetstream";
import type { Kysely, Transaction } from "kysely";
import { AppError } from "@palimpsest/contracts";
import { decodeEvent, type Logger } from "@palimpsest/platform";
import type { DocumentStore } from "./document-store.ts";
import type { DocsDb } from "./schema.ts";
import type { AnyDomainEvent } from "@palimpsest/contracts";

/**
 * Turns pending invitations into memberships when their email registers. Runs from the AUTH
 * stream with its own checkpoint, so a registration is handled once even across restarts; the
 * accept command is idempotent (an accepted invitation is gone), and a concurrent change to the
 * document is retried.
 */
export function invitationReactor(deps: {
  db: Kysely<DocsDb>;
  store: DocumentStore;
  log: Logger;
  apply: (docId: string, event: AnyDomainEvent, seq: number) => Promise<void>;
}) {
  return async (_trx: Transaction<DocsDb>, msgs: JsMsg[]): Promise<void> => {
    for (const m of msgs) {
      const event = decodeEvent(m);
      if (event.type !== "user.registered.v1") continue;
      const { email, userId, name } = event.data;
      // Known as a user before looking for invitations, committed on its own: a share that
      // checks for the user after storing an invitation then either finds the user (and accepts
      // itself) or stored the invitation early enough for the lookup below to find it.
      await deps.db.insertInto("doc_users").values({ id: userId, email, name }).onConflict((oc) => oc.doNothing()).execute();
      const pending = await deps.db.selectFrom("document_invitations").select("doc_id").where("email", "=", email).execute();
      for (const { doc_id: docId } of pending) {
        for (let attempt = 1; ; attempt++) {
          try {
            await deps.store.execute(docId, { type: "accept-invitation", email, userId }, userId, {
              apply: (e, seq) => deps.apply(docId, e, seq),
            });
            break;
          } catch (err) {
            if (err instanceof AppError && err.code === "CONFLICT" && attempt < 5) continue;
            throw err;
          }
        }
        deps.log.info({ docId, userId }, "invitation accepted on registration");
      }
    }
  };
}
