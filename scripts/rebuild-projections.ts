/**
 * Drops read-model tables and rebuilds them from the streams, while the system runs.
 * Usage: npm run rebuild-projections [-- <name> ...]   (names: auth, docs, docs-users,
 * docs-last-edit, edit-log, doc-activity, files; none means all). Same environment as the services.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { commonConfig, connectNats, createDb, createLogger, ensureCheckpointTable, ensureStreams, jetstreamOf, loadConfig, migrateToLatest, rebuildProjection, type ReadModels } from "@palimpsest/platform";
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
const db = createDb<unknown>(config.databaseUrl, { max: 2 });
let failed = false;
try {
  const services = [auth.readModels, docs.readModels, files.readModels, history.readModels] as unknown as ReadModels<unknown>[];
  for (const s of services) await migrateToLatest(db, s.service, s.migrations);
  await ensureCheckpointTable(db);
  const all = services.flatMap((s) => s.projections);
  const unknown = [...wanted].filter((n) => !all.some((p) => p.spec.name === n));
  if (unknown.length) throw new Error(`unknown projection(s): ${unknown.join(", ")}; known: ${all.map((p) => p.spec.name).join(", ")}`);
  for (const { spec, tables, batchSize } of all) {
    if (wanted.size && !wanted.has(spec.name)) continue;
    const started = performance.now();
    const n = await rebuildProjection(db as Kysely<unknown>, js, spec, tables, batchSize);
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
