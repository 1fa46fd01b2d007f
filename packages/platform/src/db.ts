import { Kysely, Migrator, PostgresDialect, sql, type Migration } from "kysely";
import pg from "pg";

// BIGINT columns hold stream sequences; they fit a JS number for any realistic stream.
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));

export type { Migration };

export function createDb<DB>(connectionString: string, opts: { max?: number } = {}): Kysely<DB> {
  const pool = new pg.Pool({ connectionString, max: opts.max ?? 10, idleTimeoutMillis: 30_000 });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on("error", () => undefined);
  // Nor may a checked-out one: the pool listens only while a client is idle, and a client in a
  // transaction between two statements (no query running) emits the server's goodbye (a restart
  // or failover terminating every backend) as an 'error' event that nothing would handle. The
  // transaction's next statement fails instead, and the released client is discarded.
  pool.on("connect", (client) => client.on("error", () => undefined));
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * Applies a service's own migrations, tracked in its own table so services sharing a database
 * do not see each other's history. Kysely takes a lock, so replicas starting together are safe.
 */
export async function migrateToLatest<DB>(db: Kysely<DB>, service: string, migrations: Record<string, Migration>): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: `migrations_${service}`,
    migrationLockTableName: `migrations_${service}_lock`,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error");
    throw new Error(`migration ${failed?.migrationName ?? "?"} of ${service} failed`, { cause: error });
  }
}

export async function dbReady<DB>(db: Kysely<DB>): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}
