import { randomUUID } from "node:crypto";
import pg from "pg";
import { createDb, migrateToLatest, type Migration } from "@palimpsest/platform";

export interface ScratchSchema<DB> {
  db: ReturnType<typeof createDb<DB>>;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

/**
 * A schema of its own in the test database with a service's migrations applied: for testing a
 * read model's SQL against real Postgres without the service, and without touching its tables.
 */
export async function scratchSchema<DB>(databaseUrl: string, prefix: string, migrations: Record<string, Migration>): Promise<ScratchSchema<DB>> {
  const schema = `${prefix}_${randomUUID().replaceAll("-", "")}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`create schema "${schema}"`);
  const scoped = new URL(databaseUrl);
  scoped.searchParams.set("options", `-c search_path=${schema}`);
  const db = createDb<DB>(scoped.toString(), { max: 2 });
  // Named for the schema: Kysely looks for its migration table in every schema, and the service's own may exist.
  await migrateToLatest(db, schema, migrations);
  return {
    db,
    async drop() {
      await db.destroy();
      await admin.query(`drop schema if exists "${schema}" cascade`);
      await admin.end();
    },
  };
}
