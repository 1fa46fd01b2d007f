import type { FastifyInstance } from "fastify";
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { randomUUID } from "node:crypto";
import { decodeCollabControl, rpc, subjects, type SnapshotView } from "@palimpsest/contracts";
import {
  createServiceShell,
  callRpcOk,
  lookupDocAccess,
  RevocationList,
  createTokenVerifier,
  jetstreamOf,
  apiTokenResolver,
  jwksFetcher,
  natsReady,
  type Logger,
  type Metrics,
  type Redis,
} from "@palimpsest/platform";
import { CollabServer } from "./collab-server.ts";
import { UserConnectionLeases } from "./user-connection-leases.ts";
import { EditLog } from "./edit-log.ts";
import { StorageQuota } from "./storage-quota.ts";
import { RoomRegistry } from "./room-registry.ts";
import { createSyncMetrics } from "./sync-metrics.ts";
import { RecentAccessChanges, followAccessChanges } from "./access-changes.ts";
import { DocumentNotices } from "./document-notices.ts";
import { ReplicaPeers, trackReplicas } from "./replica-presence.ts";
import type { SyncConfig } from "./config.ts";

/** How often outdated presence is looked for: as often as each y-protocols Awareness would. */
const PRESENCE_SWEEP_MS = 3_000;

export interface SyncDeps {
  config: SyncConfig;
  nc: NatsConnection;
  log: Logger;
  metrics: Metrics;
  /** The shared revocation list; without it only the notices this replica hears count. */
  redis?: Redis;
}

export interface SyncApp {
  http: FastifyInstance;
  rooms: RoomRegistry;
  close(): Promise<void>;
}

export async function buildSyncApp(deps: SyncDeps): Promise<SyncApp> {
  const { config, nc, log, metrics } = deps;
  const syncMetrics = createSyncMetrics(metrics);
  const js = jetstreamOf(nc);
  const editLog = new EditLog(js, await jetstreamManager(nc), config.replicaId, log);
  await editLog.start();
  const loadSnapshot = async (docId: string) => {
    const snap = await callRpcOk<SnapshotView>(nc, rpc.history.snapshot, { requestId: randomUUID(), input: { docId } }, 5_000);
    if (!snap.state && snap.chunks.length === 0) return null;
    const updates = [...(snap.state ? [snap.state] : []), ...snap.chunks].map((b64) => new Uint8Array(Buffer.from(b64, "base64")));
    return { streamSeq: snap.tailAfterStreamSeq, updates };
  };
  const quota = await StorageQuota.open(nc, config.streamReplicas, { perUserBytes: config.userQuotaBytes, perDocBytes: config.docQuotaBytes });
  const peers = new ReplicaPeers(config.replicaId);
  const rooms = new RoomRegistry({ editLog, nc, replicaId: config.replicaId, log, metrics: syncMetrics, quota, idleUnloadMs: config.idleUnloadMs, maxNestingDepth: config.maxNestingDepth, loadSnapshot, replicas: peers });
  const revocations = new RevocationList({ nc, log, ...(deps.redis ? { redis: deps.redis } : {}) });
  await revocations.start();
  const verifier = createTokenVerifier({ fetchJwks: jwksFetcher(nc), resolveApiToken: apiTokenResolver(nc), issuer: config.jwtIssuer, audience: config.jwtAudience, revocations });
  const recentAccess = new RecentAccessChanges();
  const leases = deps.redis ? new UserConnectionLeases(deps.redis, { maxConnections: config.maxConnectionsPerUser, maxDocuments: config.maxDocumentsPerUser }, log, config.replicaId) : undefined;
  const collab = new CollabServer({ config, nc, verifier, rooms, log, metrics: syncMetrics, recentAccess, ...(leases ? { leases } : {}) });
  const roleNow = async (docId: string, userId: string) => (await lookupDocAccess(nc, { docId, userId, fresh: true })).role;
  const accessChanges = await followAccessChanges(js, await jetstreamManager(nc), rooms, log, recentAccess, new DocumentNotices(rooms), roleNow);
  const replicas = trackReplicas(nc, config.replicaId, rooms, peers, { onGone: (replica) => void leases?.releaseReplica(replica) });
  const resync =
    config.resyncMs > 0
      ? setInterval(() => void rooms.loaded().then((all) => all.forEach((r) => r.resync())), config.resyncMs)
      : undefined;
  resync?.unref();
  // Presence nobody renewed for 30 s is dropped: one timer for every room (see DocRoom.dropOutdatedPresence).
  const presenceSweep = setInterval(() => void rooms.loaded().then((all) => all.forEach((r) => r.dropOutdatedPresence())), PRESENCE_SWEEP_MS);
  presenceSweep.unref();
  // A revocation notice is sent once, at most: open connections are also checked against the shared list now and then.
  const recheck =
    config.revocationRecheckMs > 0
      ? setInterval(() => void collab.recheckSessions((claims) => revocations.assertActive(claims)), config.revocationRecheckMs)
      : undefined;
  recheck?.unref();

  const controlSubs = [
    nc.subscribe(subjects.collabControl(), {
      callback: (_err, msg) => {
        try {
          const notice = decodeCollabControl(msg.string());
          if (notice?.type === "session.revoked") collab.closeSession(notice.sessionId, "session revoked");
        } catch {
          log.warn("ignoring malformed control message");
        }
      },
    }),
  ];
  const checks = { nats: () => natsReady(nc) };
  const shell = createServiceShell({ service: "sync", nc, log, metrics, checks });
  shell.track(...controlSubs);

  const http = shell.http;
  http.server.on("upgrade", (req, socket, head) => collab.handleUpgrade(req, socket, head));

  return {
    http,
    rooms,
    async close() {
      shell.beginShutdown();
      await collab.close();
      accessChanges.stop();
      replicas.stop();
      if (resync) clearInterval(resync);
      clearInterval(presenceSweep);
      if (recheck) clearInterval(recheck);
      revocations.stop();
      leases?.stop();
      await rooms.closeAll();
      await quota.close();
      editLog.close();
      await shell.close();
    },
  };
}
