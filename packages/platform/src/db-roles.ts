import pg from "pg";

/**
 * Each service that keeps tables connects as its own PostgreSQL role, named after it, which owns
 * a schema of the same name and nothing else: PostgreSQL's default search_path ("$user", public)
 * then puts the service's unqualified table names in its own schema, and another service's role
 * gets "permission denied" on them. No service reads another's tables; what one needs of
 * another's data it gets from the streams (its own projection) or over NATS.
 */
export const DatabaseServices = ["auth", "docs", "files", "history"] as const;
export type DatabaseService = (typeof DatabaseServices)[number];

export type DatabasePasswords = Record<DatabaseService, string>;

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** The admin URL with a service's role and password in place of the admin's. */
export function serviceDatabaseUrl(adminUrl: string, service: DatabaseService, password: string): string {
  const url = new URL(adminUrl);
  url.username = encodeURIComponent(service);
  url.password = encodeURIComponent(password);
  return url.toString();
}

/**
 * An admin connection that acts as a service's role (objects it creates belong to the service,
 * unqualified names are the service's): for operator tools that work on every service's tables.
 */
export function actingAsUrl(adminUrl: string, service: DatabaseService): string {
  const url = new URL(adminUrl);
  url.searchParams.set("options", `-c role=${service} -c search_path=${service}`);
  return url.toString();
}

/**
 * Creates (or updates the password of) each service's role and its schema, as the database's
 * owner or a superuser. Idempotent: run at every start of a local run, or as a set-up job.
 */
export async function provisionDatabaseRoles(adminUrl: string, passwords: DatabasePasswords): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const db = (await client.query<{ db: string; me: string }>("select current_database() as db, current_user as me")).rows[0];
    if (!db) throw new Error("no current database");
    // Only the roles named here may connect; PUBLIC gets nothing in the shared public schema.
    await client.query(`revoke all on database ${ident(db.db)} from public`);
    await client.query("revoke all on schema public from public");
    for (const service of DatabaseServices) {
      const exists = await client.query("select 1 from pg_roles where rolname = $1", [service]);
      const verb = exists.rowCount === 0 ? "create" : "alter";
      await client.query(`${verb} role ${ident(service)} with login nosuperuser nocreatedb nocreaterole noinherit password ${literal(passwords[service])}`);
      // The admin may act as the role (operator tools, see actingAsUrl).
      await client.query(`grant ${ident(service)} to ${ident(db.me)}`);
      await client.query(`grant connect, temporary on database ${ident(db.db)} to ${ident(service)}`);
      await client.query(`create schema if not exists ${ident(service)} authorization ${ident(service)}`);
      await client.query(`alter schema ${ident(service)} owner to ${ident(service)}`);
    }
  } finally {
    await client.end();
  }
}
