/**
 * Drops read-model tables and rebuilds them from the streams, while the system runs.
 * Usage: npm run rebuild-projections [-- <name> ...]   (names: auth, docs, docs-users,
 * docs-last-edit, edit-log, doc-activity; none means all). Same environment as the services.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { commonConfig, connectNats, createDb, createLogger, ensureCheckpointTable, ensureStreams, jetstreamOf, loadConfig, migrateToLatest, rebuildProjection } from "@palimpsest/platform";
import type { Kysely } from "kysely";
import { authProjectionSpecs } from "../services/auth/src/projections.ts";
import { authMigrations } from "../services/auth/src/schema.ts";
import { docsProjectionSpecs } from "../services/docs/src/projections.ts";
import { docsMigrations } from "../services/docs/src/schema.ts";
import { historyProjectionSpecs } from "../services/history/src/projections.ts";
import { historyMigrations } from "../services/history/src/schema.ts";

const config = loadConfig(commonConfig);
const log = createLogger("rebuild", config.logLevel === "info" ? "warn" : config.logLevel, config.replicaId);
const wanted = new Set(process.argv.slice(2));
const nc = await connectNats(config, "rebuild-projections", log);
await ensureStreams(await jetstreamManager(nc), config.streamReplicas, { update: true });
const js = jetstreamOf(nc);
const db = createDb<unknown>(config.databaseUrl, { max: 2 });
let failed = false;
try {
  await migrateToLatest(db, "auth", authMigrations);
  await migrateToLatest(db, "docs", docsMigrations);
  await migrateToLatest(db, "history", historyMigrations);
  await ensureCheckpointTable(db);
  const all = [...authProjectionSpecs, ...docsProjectionSpecs, ...historyProjectionSpecs] as unknown as {
    spec: Parameters<typeof rebuildProjection<unknown>>[2];
    tables: readonly string[];
  }[];
  const unknown = [...wanted].filter((n) => !all.some((p) => p.spec.name === n));
  if (unknown.length) throw new Error(`unknown projection(s): ${unknown.join(", ")}; known: ${all.map((p) => p.spec.name).join(", ")}`);
  for (const { spec, tables } of all) {
    if (wanted.size && !wanted.has(spec.name)) continue;
    const started = performance.now();
    const n = await rebuildProjection(db as Kysely<unknown>, js, spec, tables);
    console.log(`${spec.name}: ${n} events replayed into ${tables.join(", ")} in ${Math.round(performance.now() - started)} ms`);
  }
} catch (err) {
  failed = true;
  console.error(err instanceof Error ? err.message : err);
} finally {
  await db.destroy();
  await nc.close();
}
process.exit(failed ? 1 : 0);
