import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import pg from "pg";
import { sql } from "kysely";
import { createDb } from "../src/db.ts";

let admin: pg.Client;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: inject("storeEnv")["DATABASE_URL"] });
  await admin.connect();
});
afterAll(async () => {
  await admin?.end();
});

describe("a database pool whose server ends a connection", () => {
  it("given a transaction between two statements, when the server terminates its backend, then the next statement fails, the process carries on and the pool serves new work", async () => {
    const db = createDb<unknown>(inject("storeEnv")["DATABASE_URL"]!, { max: 2 });
    try {
      const outcome = await db
        .transaction()
        .execute(async (trx) => {
          const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)).rows[0]!.pid;
          // As a restarting server does to every backend; nothing of ours is running on this one.
          await admin.query("select pg_terminate_backend($1)", [pid]);
          await vi.waitFor(async () => expect((await admin.query("select 1 from pg_stat_activity where pid = $1", [pid])).rowCount).toBe(0));
          // The goodbye reaches the client within a moment; give it the chance to arrive while idle.
          await new Promise((resolve) => setImmediate(resolve));
          await sql`select 1`.execute(trx);
          return "went through";
        })
        .catch((err: unknown) => (err instanceof Error ? "refused" : "?"));
      expect(outcome).toBe("refused");
      expect((await sql<{ one: number }>`select 1 as one`.execute(db)).rows[0]?.one).toBe(1);
    } finally {
      await db.destroy();
    }
  });
});
