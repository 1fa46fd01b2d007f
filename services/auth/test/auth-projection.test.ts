import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createHash, randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { AnyDomainEvent } from "@palimpsest/contracts";
import { scratchSchema, type ScratchSchema } from "@palimpsest/devkit";
import { applyAuthEvent } from "../src/auth-projection.ts";
import { authMigrations, type AuthDb } from "../src/schema.ts";

/**
 * The command path applies its event right after appending, the projector again from the
 * stream, and two commands on one subject may apply theirs in the opposite order to the one they
 * were stored in. Whatever the order, the rows must be those a replay of the stream gives.
 */

let scratch: ScratchSchema<AuthDb>;
let db: Kysely<AuthDb>;

beforeAll(async () => {
  scratch = await scratchSchema<AuthDb>(inject("storeEnv")["DATABASE_URL"]!, "auth_projection", authMigrations);
  db = scratch.db;
});
afterAll(async () => {
  await scratch?.drop();
});

const hash = (s: string) => createHash("sha256").update(s).digest("hex");
const minute = (n: number) => new Date(Date.UTC(2026, 11, 1, 10, n)).toISOString();
const ev = (type: string, n: number, data: Record<string, unknown>) => ({ id: randomUUID(), type, at: minute(n), data }) as unknown as AnyDomainEvent;

/** One account's story, in stream order (seq = position + 1); ids are the run's own. */
function story(run: string): AnyDomainEvent[] {
  const userId = `u-${run}`;
  const sessionId = `s-${run}`;
  const t = (name: string) => hash(`${run}-${name}`);
  return [
    ev("user.registered.v1", 1, { userId, email: `${run}@example.test`, name: "Ada", passwordHash: "h".repeat(20) + "first" }),
    ev("session.started.v1", 2, { sessionId, userId, refreshTokenHash: t("A"), expiresAt: minute(100) }),
    ev("user.password-reset-requested.v1", 3, { userId, tokenHash: t("reset-1"), expiresAt: minute(60) }),
    ev("session.refreshed.v1", 4, { sessionId, previousTokenHash: t("A"), refreshTokenHash: t("B"), expiresAt: minute(104) }),
    ev("user.password-changed.v1", 5, { userId, passwordHash: "h".repeat(20) + "second", via: "change" }),
    ev("session.refreshed.v1", 6, { sessionId, previousTokenHash: t("B"), refreshTokenHash: t("C"), expiresAt: minute(106) }),
    ev("user.password-reset-requested.v1", 7, { userId, tokenHash: t("reset-2"), expiresAt: minute(67) }),
    ev("session.revoked.v2", 8, { sessionId, reason: "signed-out-everywhere" }),
  ];
}

/** The rows of one run, with its ids taken out, so runs can be compared. */
async function rowsOf(run: string) {
  const strip = (s: string) => s.replace(run, "*");
  const user = await db.selectFrom("users").select(["password_hash", "account_version", "version"]).where("id", "=", `u-${run}`).executeTakeFirstOrThrow();
  const session = await db.selectFrom("sessions").select(["expires_at", "revoked_at", "revoke_reason", "version"]).where("id", "=", `s-${run}`).executeTakeFirstOrThrow();
  const tokens = await db.selectFrom("refresh_tokens").select(["hash", "status", "created_at"]).where("session_id", "=", `s-${run}`).orderBy("created_at").execute();
  const resets = await db.selectFrom("password_resets").select(["hash", "used_at", "requested_at"]).where("user_id", "=", `u-${run}`).orderBy("requested_at").execute();
  return {
    user,
    session,
    tokens: tokens.map((r) => ({ status: r.status, created_at: r.created_at, name: ["A", "B", "C"].find((n) => hash(`${run}-${n}`) === r.hash) })),
    resets: resets.map((r) => ({ used_at: r.used_at, requested_at: r.requested_at, name: strip(["reset-1", "reset-2"].find((n) => hash(`${run}-${n}`) === r.hash) ?? "?") })),
  };
}

/** Orders a command path can apply in: rows are created first, and a refresh reads the token the one before it issued. */
function possibleOrders(): number[][] {
  const rest = [2, 3, 4, 5, 6, 7];
  const all: number[][] = [];
  const permute = (done: number[], left: number[]) => {
    if (left.length === 0) return void all.push(done);
    for (const [i, x] of left.entries()) permute([...done, x], [...left.slice(0, i), ...left.slice(i + 1)]);
  };
  permute([], rest);
  return all.filter((o) => o.indexOf(3) < o.indexOf(5)).map((o) => [0, 1, ...o]);
}

describe("the auth read model, applied in the order commands happen to apply", () => {
  it("given one account's events applied in every order its commands could apply them, then the rows equal those of the stream's order", async () => {
    const expected = await (async () => {
      const events = story("inorder");
      for (const [i, e] of events.entries()) await applyAuthEvent(db, e, i + 1);
      return rowsOf("inorder");
    })();
    // The story as the stream tells it: the second password, the first reset link used by it, the second not; the last token active, revoked.
    expect(expected.user.password_hash.endsWith("second")).toBe(true);
    expect(expected.resets.map((r) => [r.name, r.used_at !== null])).toEqual([["reset-1", true], ["reset-2", false]]);
    expect(expected.tokens.map((t) => [t.name, t.status])).toEqual([["A", "rotated"], ["B", "rotated"], ["C", "active"]]);
    expect(expected.session.revoke_reason).toBe("signed-out-everywhere");

    const orders = possibleOrders();
    expect(orders.length).toBe(360);
    const differing: string[] = [];
    for (const [k, order] of orders.entries()) {
      const run = `run${k}`;
      const events = story(run);
      for (const i of order) await applyAuthEvent(db, events[i]!, i + 1);
      const got = await rowsOf(run);
      try {
        expect(got).toEqual(expected);
      } catch {
        differing.push(order.map((i) => i + 1).join(","));
      }
    }
    expect(differing).toEqual([]);
  }, 120_000);
});
