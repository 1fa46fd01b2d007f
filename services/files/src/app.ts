import type { FastifyInstance } from "fastify";
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import type { S3Client } from "@aws-sdk/client-s3";
import type { Kysely } from "kysely";
import { rpc } from "@palimpsest/contracts";
import {
  createServiceShell,
  createTokenVerifier,
  dbReady,
  ensureCheckpointTable,
  jetstreamOf,
  apiTokenResolver,
  jwksFetcher,
  natsReady,
  runProjection,
  s3Ready,
  serveRpc,
  type Logger,
  type Metrics,
  type ProjectionRunner,
  runDurableWorker,
  RevocationList,
  type Redis,
} from "@palimpsest/platform";
import type { FilesConfig } from "./config.ts";
import type { FilesDb } from "./schema.ts";
import { ObjectStore } from "./object-store.ts";
import { FileRecords } from "./file-records.ts";
import { DocAccess } from "./doc-access.ts";
import { createUploads } from "./uploads.ts";
import { createFilesRpc } from "./files-rpc.ts";
import { registerFileRoutes } from "./http-routes.ts";
import { filesProjectionSpecs } from "./projections.ts";
import { createFilesMetrics } from "./files-metrics.ts";
import { cleanupWorker, purgeWorker, thumbnailWorker } from "./file-workers.ts";
import { runUploadSweeper } from "./upload-sweeper.ts";

export interface FilesDeps {
  config: FilesConfig;
  nc: NatsConnection;
  db: Kysely<FilesDb>;
  s3: S3Client;
  /** Signs the URLs handed to clients; the same client as `s3` unless the store has a separate public endpoint. */
  presignS3: S3Client;
  log: Logger;
  metrics: Metrics;
  /** The shared revocation list; without it only the notices this replica hears count. */
  redis?: Redis;
}

export interface FilesApp {
  http: FastifyInstance;
  projections: ProjectionRunner[];
  close(): Promise<void>;
}

/**
 * The files service: owns the object store. Uploads (streamed or presigned) and downloads over
 * HTTP behind the gateway, list / confirm / delete over NATS, file events projected into
 * Postgres, and workers for thumbnails, purges and deleting objects.
 */
export async function buildFilesApp(deps: FilesDeps): Promise<FilesApp> {
  const { config, nc, db, s3, log, metrics } = deps;
  await ensureCheckpointTable(db);
  const js = jetstreamOf(nc);
  const jsm = await jetstreamManager(nc);
  const fileMetrics = createFilesMetrics(metrics);
  const store = new ObjectStore(s3, deps.presignS3, config.s3Bucket);
  const records = new FileRecords(db, js);
  const access = new DocAccess(nc);
  const uploads = createUploads({ config, db, store, records, access, metrics: fileMetrics, log });
  // A download is data served here: a revoked session's token must not fetch it, whatever the gateway did.
  const revocations = new RevocationList({ nc, log, ...(deps.redis ? { redis: deps.redis } : {}) });
  await revocations.start();
  const verifier = createTokenVerifier({ fetchJwks: jwksFetcher(nc), resolveApiToken: apiTokenResolver(nc), issuer: config.jwtIssuer, audience: config.jwtAudience, revocations });

  const filesRpc = createFilesRpc({ records, access, store, uploads, metrics: fileMetrics, log });
  const rpcSubs = serveRpc(nc, "files", { [rpc.files.list]: filesRpc.list, [rpc.files.complete]: filesRpc.complete, [rpc.files.remove]: filesRpc.remove }, { log, metrics, verifier });

  const projections = filesProjectionSpecs.map(({ spec, tables }) => runProjection({ db, databaseUrl: config.databaseUrl, js, spec, tables, log, metrics }));
  const workerDeps = { js, jsm, records, store, metrics: fileMetrics, log };
  const workers = [
    runDurableWorker({ js, jsm, log, spec: thumbnailWorker({ ...workerDeps, size: config.thumbnailSize, maxPixels: config.thumbnailMaxPixels }) }),
    runDurableWorker({ js, jsm, log, spec: cleanupWorker(workerDeps) }),
    runDurableWorker({ js, jsm, log, spec: purgeWorker(workerDeps) }),
  ];
  const sweeper = runUploadSweeper({ db, store, urlTtlSeconds: config.uploadUrlTtlSeconds, everyMs: config.sweepSeconds * 1000, metrics: fileMetrics, log });

  const checks = { nats: () => natsReady(nc), postgres: () => dbReady(db), s3: () => s3Ready(s3, config.s3Bucket) };
  // Multipart bodies are parsed by the upload route itself; JSON ones (a presigned upload request) are small.
  const shell = createServiceShell({ service: "files", nc, log, metrics, checks, http: { bodyLimit: 64 * 1024 } });
  shell.track(...rpcSubs);
  await registerFileRoutes(shell.http, { config, verifier, records, access, store, uploads, metrics: fileMetrics });
  return {
    http: shell.http,
    projections,
    async close() {
      shell.beginShutdown();
      await sweeper.stop();
      await Promise.all(workers.map((w) => w.stop()));
      await Promise.all(projections.map((p) => p.stop()));
      await shell.close();
      await uploads.close();
      revocations.stop();
    },
  };
}
