import type { JsMsg } from "@nats-io/jetstream";
import type { Transaction, Kysely } from "kysely";
import { decodeEvent } from "@palimpsest/platform";
import type { AnyDomainEvent } from "@palimpsest/contracts";
import type { AuthDb } from "./schema.ts";

type Db = Kysely<AuthDb> | Transaction<AuthDb>;

/**
 * Applies one AUTH event to the read model. Idempotent: each row remembers the stream
 * sequence of the last event applied to it, so applying an event twice, or an older one
 * after a newer one, changes nothing. The command path calls this right after appending
 * (read-your-writes); the projection runner calls it again from the stream.
 */
export async function applyAuthEvent(db: Db, event: AnyDomainEvent, seq: number): Promise<void> {
  switch (event.type) {
    case "user.registered.v1": {
      const d = event.data;
      await db
        .insertInto("users")
        .values({ id: d.userId, email: d.email, name: d.name, password_hash: d.passwordHash, created_at: new Date(event.at), version: seq })
        .onConflict((oc) => oc.doNothing())
        .execute();
      // The emailed link that made this account (if one did) has done its work.
      await db.updateTable("pending_registrations").set({ used_at: new Date(event.at) }).where("user_id", "=", d.userId).where("used_at", "is", null).execute();
      return;
    }
    case "user.registration-requested.v1": {
      const d = event.data;
      await db
        .insertInto("pending_registrations")
        .values({
          hash: d.tokenHash,
          user_id: d.userId,
          email: d.email,
          name: d.name,
          password_hash: d.passwordHash,
          expires_at: new Date(d.expiresAt),
          requested_at: new Date(event.at),
          used_at: null,
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
      return;
    }
    case "user.registration-notice-sent.v1": {
      await db.insertInto("registration_notices").values({ id: event.id, user_id: event.data.userId, sent_at: new Date(event.at) }).onConflict((oc) => oc.doNothing()).execute();
      return;
    }
    case "session.started.v1": {
      const d = event.data;
      await db
        .insertInto("sessions")
        .values({ id: d.sessionId, user_id: d.userId, expires_at: new Date(d.expiresAt), revoked_at: null, revoke_reason: null, created_at: new Date(event.at), version: seq })
        .onConflict((oc) => oc.doNothing())
        .execute();
      await db.insertInto("refresh_tokens").values({ hash: d.refreshTokenHash, session_id: d.sessionId, status: "active", created_at: new Date(event.at) }).onConflict((oc) => oc.doNothing()).execute();
      return;
    }
    case "session.refreshed.v1": {
      const d = event.data;
      await db.updateTable("sessions").set({ expires_at: new Date(d.expiresAt), version: seq }).where("id", "=", d.sessionId).where("version", "<", seq).execute();
      await db.updateTable("refresh_tokens").set({ status: "rotated" }).where("hash", "=", d.previousTokenHash).execute();
      await db.insertInto("refresh_tokens").values({ hash: d.refreshTokenHash, session_id: d.sessionId, status: "active", created_at: new Date(event.at) }).onConflict((oc) => oc.doNothing()).execute();
      return;
    }
    case "session.revoked.v1":
    case "session.revoked.v2": {
      const d = event.data;
      await db
        .updateTable("sessions")
        .set({ revoked_at: new Date(event.at), revoke_reason: d.reason, version: seq })
        .where("id", "=", d.sessionId)
        .where("version", "<", seq)
        .execute();
      return;
    }
    case "user.password-reset-requested.v1": {
      const d = event.data;
      await db
        .insertInto("password_resets")
        .values({ hash: d.tokenHash, user_id: d.userId, expires_at: new Date(d.expiresAt), requested_at: new Date(event.at), used_at: null })
        .onConflict((oc) => oc.doNothing())
        .execute();
      await db.updateTable("users").set({ account_version: seq }).where("id", "=", d.userId).where("account_version", "<", seq).execute();
      return;
    }
    case "user.password-changed.v1": {
      const d = event.data;
      const applied = await db
        .updateTable("users")
        .set({ password_hash: d.passwordHash, account_version: seq })
        .where("id", "=", d.userId)
        .where("account_version", "<", seq)
        .executeTakeFirst();
      if (applied.numUpdatedRows === 0n) return;
      // A new password makes every outstanding reset link useless, the one just used included.
      await db.updateTable("password_resets").set({ used_at: new Date(event.at) }).where("user_id", "=", d.userId).where("used_at", "is", null).execute();
      return;
    }
    case "api-token.created.v1": {
      const d = event.data;
      await db
        .insertInto("api_tokens")
        .values({
          id: d.tokenId,
          user_id: d.userId,
          name: d.name,
          scopes: JSON.stringify(d.scopes) as unknown as string[],
          secret_hash: d.secretHash,
          created_at: new Date(event.at),
          expires_at: d.expiresAt ? new Date(d.expiresAt) : null,
          revoked_at: null,
          version: seq,
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
      return;
    }
    case "api-token.revoked.v1": {
      await db.updateTable("api_tokens").set({ revoked_at: new Date(event.at), version: seq }).where("id", "=", event.data.tokenId).where("version", "<", seq).execute();
      return;
    }
    default:
      // Events of other contexts never land on auth subjects; ignore rather than stall the projection.
      return;
  }
}

export async function applyAuthBatch(trx: Transaction<AuthDb>, msgs: JsMsg[]): Promise<void> {
  for (const m of msgs) await applyAuthEvent(trx, decodeEvent(m), m.seq);
}
