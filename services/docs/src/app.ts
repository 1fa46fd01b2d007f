import type { FastifyInstance } from "fastify";
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
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
  serveRpc,
  type Logger,
  type Metrics,
  type ProjectionRunner,
} from "@palimpsest/platform";
import { createDocuments } from "./documents.ts";
import { createComments } from "./comments.ts";
import { createNotifications } from "./notifications.ts";
import { createWebhooks } from "./webhooks.ts";
import { createSearch } from "./search.ts";
import { searchIndexSpec } from "./search-index.ts";
import { startWebhookDeliveries } from "./webhook-deliveries.ts";
import { readYourWorkspaceWrites, readYourWrites } from "./read-your-writes.ts";
import { createWorkspaces } from "./workspaces.ts";
import { WorkspaceStore } from "./workspace-store.ts";
import { docsProjectionSpecs, NOTIFICATIONS_PROJECTION } from "./projections.ts";
import { inboxNotices } from "./inbox-notices.ts";
import { runNotificationMailer } from "./notification-mailer.ts";
import { DocumentStore } from "./document-store.ts";
import { AccessCache } from "./access-cache.ts";
import type { DocsConfig } from "./config.ts";
import { docsProjections, type DocsDb } from "./schema.ts";

export interface DocsDeps {
  config: DocsConfig;
  nc: NatsConnection;
  db: Kysely<DocsDb>;
  log: Logger;
  metrics: Metrics;
}

export interface DocsApp {
  http: FastifyInstance;
  projections: ProjectionRunner[];
  close(): Promise<void>;
}

export async function buildDocsApp(deps: DocsDeps): Promise<DocsApp> {
  const { config, nc, db, log, metrics } = deps;
  const js = jetstreamOf(nc);
  await ensureCheckpointTable(db);
  const workspaceStore = new WorkspaceStore(js, await jetstreamManager(nc));
  // A document's commands are decided with the roles its workspace gives, as the cache follows them.
  const store: DocumentStore = new DocumentStore(js, await jetstreamManager(nc), (workspaceId) => cache.grants(workspaceId));
  const cache: AccessCache = new AccessCache(store, workspaceStore, log);
  await cache.start(js, await jetstreamManager(nc));
  const apply = readYourWrites(db, cache);
  const invitationSettings = { publicUrl: config.publicUrl, ttlMs: config.invitationTtlHours * 3_600_000 };
  const workspaces = createWorkspaces(db, workspaceStore, cache, readYourWorkspaceWrites(db, cache), nc, invitationSettings);
  const docs = createDocuments(db, store, cache, apply, nc, invitationSettings, workspaces.acceptInvitation);
  const comments = createComments(db, store, cache, apply);
  const notifications = createNotifications(db, js);
  const jsm = await jetstreamManager(nc);
  const deliveries = startWebhookDeliveries({ db, js, jsm, store, apply, log, metrics, config });
  const webhooks = createWebhooks({ db, store, jsm, cache, apply, deliveries, policy: config.webhookAllowPrivateTargets });
  const search = createSearch(db);
  const rpcSubs = serveRpc(
    nc,
    "docs",
    {
      [rpc.docs.create]: docs.create,
      [rpc.docs.list]: docs.list,
      [rpc.docs.get]: docs.get,
      [rpc.docs.access]: docs.access,
      [rpc.docs.rename]: docs.rename,
      [rpc.docs.trash]: docs.trash,
      [rpc.docs.untrash]: docs.untrash,
      [rpc.docs.members]: docs.members,
      [rpc.docs.share]: docs.share,
      [rpc.docs.changeRole]: docs.changeRole,
      [rpc.docs.removeMember]: docs.removeMember,
      [rpc.docs.cancelInvitation]: docs.cancelInvitation,
      [rpc.docs.acceptInvitation]: docs.acceptInvitation,
      [rpc.docs.leave]: docs.leave,
      [rpc.docs.transfer]: docs.transfer,
      [rpc.docs.nameVersion]: docs.nameVersion,
      [rpc.docs.versions]: docs.versions,
      [rpc.docs.comments]: comments.list,
      [rpc.docs.addComment]: comments.add,
      [rpc.docs.reply]: comments.reply,
      [rpc.docs.updateComment]: comments.update,
      [rpc.docs.deleteComment]: comments.remove,
      [rpc.docs.notifications]: notifications.list,
      [rpc.docs.markRead]: notifications.markRead,
      [rpc.docs.notificationSettings]: notifications.settings,
      [rpc.docs.setNotificationSettings]: notifications.changeSettings,
      [rpc.docs.webhooks]: webhooks.list,
      [rpc.docs.registerWebhook]: webhooks.register,
      [rpc.docs.deleteWebhook]: webhooks.remove,
      [rpc.docs.webhookDeliveries]: webhooks.deliveries,
      [rpc.docs.replayWebhook]: webhooks.replay,
      [rpc.docs.search]: search.search,
      [rpc.docs.move]: docs.move,
      [rpc.docs.workspaces]: workspaces.list,
      [rpc.docs.createWorkspace]: workspaces.create,
      [rpc.docs.workspace]: workspaces.get,
      [rpc.docs.renameWorkspace]: workspaces.rename,
      [rpc.docs.deleteWorkspace]: workspaces.remove,
      [rpc.docs.workspaceMembers]: workspaces.members,
      [rpc.docs.addWorkspaceMember]: workspaces.addMember,
      [rpc.docs.changeWorkspaceRole]: workspaces.changeRole,
      [rpc.docs.removeWorkspaceMember]: workspaces.removeMember,
      [rpc.docs.cancelWorkspaceInvitation]: workspaces.cancelInvitation,
    },
    { log, metrics, verifier: createTokenVerifier({ fetchJwks: jwksFetcher(nc), resolveApiToken: apiTokenResolver(nc), issuer: config.jwtIssuer, audience: config.jwtAudience }) },
  );
  const common = { db, databaseUrl: config.databaseUrl, js, log, metrics };
  // No reactor turns registrations into memberships any more: registering proves nothing about
  // an address, so an invitation is accepted only with the token its email carried.
  const toldLive = inboxNotices(nc, db);
  const projections = docsProjectionSpecs.map(({ spec, tables, batchSize, flushDelayMs }) =>
    runProjection({
      ...common,
      spec,
      tables,
      ...(batchSize ? { batchSize } : {}),
      ...(flushDelayMs ? { flushDelayMs } : {}),
      ...(spec.name === NOTIFICATIONS_PROJECTION ? { committed: toldLive } : {}),
    }),
  );
  // Not among docsProjectionSpecs: it calls history, so it needs a connection (see search-index.ts).
  projections.push(
    // However many heads arrive meanwhile (each edited document's, several a second), a batch
    // waits for the interval, so each document is indexed once per interval.
    runProjection({ ...common, spec: searchIndexSpec(nc, log), tables: docsProjections["docs-search"], batchSize: 20_000, flushDelayMs: config.searchIndexIntervalMs }),
  );
  const mailer = runNotificationMailer({ db, js, log, metrics, delayMs: config.notificationMailDelaySeconds * 1000, publicUrl: config.publicUrl });
  const checks = { nats: () => natsReady(nc), postgres: () => dbReady(db) };
  const shell = createServiceShell({ service: "docs", nc, log, metrics, checks });
  shell.track(...rpcSubs);
  const http = shell.http;
  return {
    http,
    projections,
    async close() {
      shell.beginShutdown();
      cache.stop();
      await mailer.stop();
      await deliveries.stop();
      await Promise.all(projections.map((p) => p.stop()));
      await shell.close();
    },
  };
}
