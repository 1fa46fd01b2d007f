import type { FastifyInstance } from "fastify";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Kysely } from "kysely";
import { rpc } from "@palimpsest/contracts";
import {
  createServiceShell,
  KeyRing,
  createTokenVerifier,
  dbReady,
  ensureCheckpointTable,
  jetstreamOf,
  apiTokenResolver,
  jwksFetcher,
  natsReady,
  s3Ready,
  runDurableWorker,
  runProjection,
  serveRpc,
  type Logger,
  type Metrics,
  type ProjectionRunner,
} from "@palimpsest/platform";
import { historyProjectionSpecsWith } from "./projections.ts";
import { editHeadsPublisher, repairEditHeads } from "./edit-heads.ts";
import { createHistoryQueries } from "./history-queries.ts";
import { createAuditExport } from "./audit-export.ts";
import { AuditSigningKeys } from "./audit-keys.ts";
import { runAuditCheckpointer } from "./audit-checkpointer.ts";
import { createRestoreCommand } from "./restore-command.ts";
import { createDocTransfer } from "./doc-transfer.ts";
import { createWorkspaceAudit } from "./workspace-audit.ts";
import type { HistoryConfig } from "./config.ts";
import type { S3Client } from "@aws-sdk/client-s3";
import { SnapshotStore } from "./snapshot-store.ts";
import { ExportSlots } from "./export-slots.ts";
import { createErasure } from "./erasure.ts";
import { runSnapshotter } from "./snapshotter.ts";
import type { HistoryDb } from "./schema.ts";

export interface HistoryDeps {
  config: HistoryConfig;
  nc: NatsConnection;
  db: Kysely<HistoryDb>;
  s3: S3Client;
  log: Logger;
  metrics: Metrics;
}

export interface HistoryApp {
  http: FastifyInstance;
  projections: ProjectionRunner[];
  close(): Promise<void>;
}

const EDIT_HEADS_REPAIR_AT_START_MS = 10 * 60_000;
const EDIT_HEADS_REPAIR_EVERY_MS = 60_000;

export async function buildHistoryApp(deps: HistoryDeps): Promise<HistoryApp> {
  const { config, nc, db, s3, log, metrics } = deps;
  await ensureCheckpointTable(db);
  const js = jetstreamOf(nc);
  const jsm = await js.jetstreamManager();
  const snapshots = new SnapshotStore(db, s3, config.s3Bucket, config.snapshotInlineMaxBytes);
  const auditKeys = new AuditSigningKeys(db, KeyRing.parse(config.auditKeyEncryptionKeys, "AUDIT_KEY_ENCRYPTION_KEY"), config.auditKeyRotationDays * 86_400_000);
  const queries = createHistoryQueries(db, nc, js, snapshots, log, { diffMaxVersions: config.diffMaxVersions, diffMaxRenderedChars: config.diffMaxRenderedChars });
  const transfer = createDocTransfer(db, nc, js, snapshots, log);
  // One bound on audit exports in progress, documents' and workspaces' alike.
  const auditSlots = new ExportSlots({ perUser: config.auditExportsPerUser, total: config.auditExportsTotal });
  const rpcSubs = serveRpc(nc, "history", {
      [rpc.history.list]: queries.list,
      [rpc.history.activity]: queries.activity,
      [rpc.history.version]: queries.version,
      [rpc.history.restore]: createRestoreCommand(db, nc, js, snapshots).restore,
      [rpc.history.head]: queries.head,
      [rpc.history.diff]: queries.diff,
      [rpc.history.snapshot]: queries.snapshot,
      [rpc.history.searchText]: queries.searchText,
      [rpc.history.export]: transfer.export,
      [rpc.history.exportWorkspace]: transfer.exportWorkspace,
      [rpc.history.import]: transfer.import,
      [rpc.history.audit]: createAuditExport(db, nc, js, { keys: auditKeys, slots: auditSlots }).page,
      [rpc.history.workspaceAudit]: createWorkspaceAudit(nc, js, { keys: auditKeys, slots: auditSlots }).page,
      [rpc.history.auditKeys]: async () => ({ body: await auditKeys.keySet() }),
    }, { log, metrics, verifier: createTokenVerifier({ fetchJwks: jwksFetcher(nc), resolveApiToken: apiTokenResolver(nc), issuer: config.jwtIssuer, audience: config.jwtAudience }) });
  const common = { db, databaseUrl: config.databaseUrl, js, log, metrics };
  const snapshotter = runSnapshotter({
    db,
    js,
    store: snapshots,
    log,
    policy: { everyEdits: config.snapshotEveryEdits, chunkEdits: config.snapshotChunkEdits, everySeconds: config.snapshotEverySeconds, sweepMs: config.snapshotSweepMs },
  });
  const checkpointer = runAuditCheckpointer({ db, keys: auditKeys, log, everyMs: config.auditCheckpointEverySeconds * 1000 });
  const erasure = runDurableWorker({ js, jsm, log, spec: createErasure({ db, js, jsm, s3, bucket: config.s3Bucket, snapshots, log }).worker });
  // EDIT_HEADS learns what it lacks of the edit log: at start (a new stream; heads lost in a crash
  // up to ten minutes before), then every minute for what was edited lately (heads whose publish
  // failed, or that an older release leading the edit log during a rollout never published).
  let repair: Promise<void> = Promise.resolve();
  const repairSince = (ms: number) => {
    repair = repair
      .then(() => repairEditHeads(db, js, jsm, new Date(Date.now() - ms)))
      .then(
        (written) => {
          if (written > 0) log.info({ written }, "document heads written to EDIT_HEADS from the edit log");
        },
        (err: unknown) => log.error({ err }, "could not bring EDIT_HEADS up to the edit log"),
      );
  };
  repairSince(EDIT_HEADS_REPAIR_AT_START_MS);
  const repairTimer = setInterval(() => repairSince(2 * EDIT_HEADS_REPAIR_EVERY_MS), EDIT_HEADS_REPAIR_EVERY_MS);
  repairTimer.unref();
  const projections = historyProjectionSpecsWith({ publishHeads: editHeadsPublisher(js, log) }).map(({ spec, tables, batchSize, flushDelayMs }) => {
    const delay = spec.name === "edit-log" ? config.editLogFlushMs : flushDelayMs;
    return runProjection({ ...common, spec, tables, ...(batchSize ? { batchSize } : {}), ...(delay ? { flushDelayMs: delay } : {}) });
  });
  const checks = { nats: () => natsReady(nc), postgres: () => dbReady(db), s3: () => s3Ready(s3, config.s3Bucket) };
  const shell = createServiceShell({ service: "history", nc, log, metrics, checks });
  shell.track(...rpcSubs);
  const http = shell.http;
  return {
    http,
    projections,
    async close() {
      shell.beginShutdown();
      await snapshotter.stop();
      await checkpointer.stop();
      await erasure.stop();
      await Promise.all(projections.map((p) => p.stop()));
      clearInterval(repairTimer);
      await repair;
      await shell.close();
    },
  };
}
