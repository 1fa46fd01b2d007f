import type { JsMsg } from "@nats-io/jetstream";
import { sql, type Transaction, type Kysely } from "kysely";
import { decodeEvent } from "@palimpsest/platform";
import type { AnyDomainEvent } from "@palimpsest/contracts";
import type { AuthDb } from "./schema.ts";

type Db = Kysely<AuthDb> | Transaction<AuthDb>;

/**
 * Applies one AUTH event to the read model, in any order. The command path applies its event
 * right after appending (read-your-writes) and the projection runner again from the stream, and
 * two commands on one subject may apply theirs in the opposite order to the one they were stored
 * in. So each field remembers the sequence of the event that set it and takes only a newer one,
 * versions move to the greatest sequence seen, and a token's status is settled by whichever event
 * says the most: the same rows come out whatever the order, as a rebuild from the stream gives.
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
        .values({ id: d.sessionId, user_id: d.userId, expires_at: new Date(d.expiresAt), revoked_at: null, revoke_reason: null, created_at: new Date(event.at), version: seq, expires_seq: seq })
        .onConflict((oc) => oc.doNothing())
        .execute();
      await issueToken(db, d.refreshTokenHash, d.sessionId, new Date(event.at));
      return;
    }
    case "session.refreshed.v1": {
      const d = event.data;
      await db
        .updateTable("sessions")
        .set({ version: sql`greatest(version, ${seq})`, expires_at: sql`case when expires_seq < ${seq} then ${new Date(d.expiresAt)} else expires_at end`, expires_seq: sql`greatest(expires_seq, ${seq})` })
        .where("id", "=", d.sessionId)
        .execute();
      // The token this one replaces is rotated for good, even if the event that issued it is applied after this.
      await db
        .insertInto("refresh_tokens")
        .values({ hash: d.previousTokenHash, session_id: d.sessionId, status: "rotated", created_at: new Date(event.at) })
        .onConflict((oc) => oc.column("hash").doUpdateSet({ status: "rotated" }))
        .execute();
      await issueToken(db, d.refreshTokenHash, d.sessionId, new Date(event.at));
      return;
    }
    case "session.revoked.v1":
    case "session.revoked.v2": {
      const d = event.data;
      await db.updateTable("sessions").set({ version: sql`greatest(version, ${seq})` }).where("id", "=", d.sessionId).execute();
      await db
        .updateTable("sessions")
        .set({ revoked_at: new Date(event.at), revoke_reason: d.reason, revoked_seq: seq })
        .where("id", "=", d.sessionId)
        .where("revoked_seq", "<", seq)
        .execute();
      return;
    }
    case "user.password-reset-requested.v1": {
      const d = event.data;
      // A password change stored after this request and applied before it has made it useless already.
      const changed = await db.selectFrom("users").select(["password_seq"]).where("id", "=", d.userId).executeTakeFirst();
      const usedAt = changed && changed.password_seq > seq ? await passwordChangedAt(db, d.userId) : null;
      await db
        .insertInto("password_resets")
        .values({ hash: d.tokenHash, user_id: d.userId, expires_at: new Date(d.expiresAt), requested_at: new Date(event.at), used_at: usedAt, requested_seq: seq })
        .onConflict((oc) => oc.doNothing())
        .execute();
      await db.updateTable("users").set({ account_version: sql`greatest(account_version, ${seq})` }).where("id", "=", d.userId).execute();
      return;
    }
    case "user.password-changed.v1": {
      const d = event.data;
      await db.updateTable("users").set({ account_version: sql`greatest(account_version, ${seq})` }).where("id", "=", d.userId).execute();
      const applied = await db
        .updateTable("users")
        .set({ password_hash: d.passwordHash, password_seq: seq, password_changed_at: new Date(event.at) })
        .where("id", "=", d.userId)
        .where("password_seq", "<", seq)
        .executeTakeFirst();
      if (applied.numUpdatedRows === 0n) return;
      // A new password makes every reset link requested before it useless, the one just used included.
      await db
        .updateTable("password_resets")
        .set({ used_at: new Date(event.at) })
        .where("user_id", "=", d.userId)
        .where("requested_seq", "<", seq)
        .where("used_at", "is", null)
        .execute();
      return;
    }
    default:
      // Events of other contexts never land on auth subjects; ignore rather than stall the projection.
      return;
  }
}

/** A token as issued: active, unless an event that rotated it was applied first; its time is its issue's. */
async function issueToken(db: Db, hash: string, sessionId: string, at: Date): Promise<void> {
  await db
    .insertInto("refresh_tokens")
    .values({ hash, session_id: sessionId, status: "active", created_at: at })
    .onConflict((oc) => oc.column("hash").doUpdateSet({ created_at: at }))
    .execute();
}

async function passwordChangedAt(db: Db, userId: string): Promise<Date | null> {
  const row = await db.selectFrom("users").select(["password_changed_at"]).where("id", "=", userId).executeTakeFirst();
  return row?.password_changed_at ?? null;
}

export async function applyAuthBatch(trx: Transaction<AuthDb>, msgs: JsMsg[]): Promise<void> {
  for (const m of msgs) await applyAuthEvent(trx, decodeEvent(m), m.seq);
}
