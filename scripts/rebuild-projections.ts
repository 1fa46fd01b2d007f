/**
 * Drops read-model tables and rebuilds them from the streams, while the system runs.
 * Usage: npm run rebuild-projections [-- <name> ...]   (names: auth, docs, docs-workspaces, docs-users,
 * docs-edit-heads, docs-search, edit-log, doc-activity, files; none means all). Same environment as the services,
 * but DATABASE_URL names the database's owner (or an admin), which acts as each service's role in turn.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { actingAsUrl, commonConfig, connectNats, createDb, createLogger, ensureCheckpointTable, ensureStreams, jetstreamOf, loadConfig, migrateToLatest, rebuildProjection, type DatabaseService, type ReadModels } from "@palimpsest/platform";
import type { Kysely } from "kysely";
import * as auth from "@palimpsest/auth/operations";
import * as docs from "@palimpsest/docs/operations";
import * as files from "@palimpsest/files/operations";
import * as history from "@palimpsest/history/operations";

const config = loadConfig(commonConfig);
const log = createLogger("rebuild", config.logLevel === "info" ? "warn" : config.logLevel, config.replicaId);
const wanted = new Set(process.argv.slice(2));
const nc = await connectNats(config, "rebuild-projections", log);
await ensureStreams(await jetstreamManager(nc), config.streamReplicas, { update: true });
const js = jetstreamOf(nc);
// Each service's tables live in its own schema and belong to its own role (platform db-roles.ts).
const services = [auth.readModels, docs.readModels, files.readModels, history.readModels] as unknown as ReadModels<unknown>[];
const dbs = new Map(services.map((s) => [s.service, createDb<unknown>(actingAsUrl(config.databaseUrl, s.service as DatabaseService), { max: 2 })]));
const dbOf = (service: string) => dbs.get(service) as Kysely<unknown>;
let failed = false;
try {
  for (const s of services) {
    await migrateToLatest(dbOf(s.service), s.service, s.migrations);
    await ensureCheckpointTable(dbOf(s.service));
  }
  const all = [
    ...services.flatMap((s) => s.projections.map((p) => ({ ...p, service: s.service }))),
    // Rebuilt from EDIT_HEADS with each document's text fetched from history again.
    { ...(docs.searchIndex(nc, log) as unknown as ReadModels<unknown>["projections"][number]), service: "docs" },
  ];
  const unknown = [...wanted].filter((n) => !all.some((p) => p.spec.name === n));
  if (unknown.length) throw new Error(`unknown projection(s): ${unknown.join(", ")}; known: ${all.map((p) => p.spec.name).join(", ")}`);
  for (const { spec, tables, batchSize, service } of all) {
    if (wanted.size && !wanted.has(spec.name)) continue;
    const started = performance.now();
    const n = await rebuildProjection(dbOf(service), js, spec, tables, batchSize);
    console.log(`${spec.name}: ${n} events replayed into ${tables.join(", ")} in ${Math.round(performance.now() - started)} ms`);
  }
} catch (err) {
  failed = true;
  console.error(err instanceof Error ? err.message : err);
} finally {
  await Promise.all([...dbs.values()].map((d) => d.destroy()));
  await nc.close();
}
process.exit(failed ? 1 : 0);
