export { ConfigError, commonConfig, deepFreeze, env, loadConfig, refuseBuiltInCredentials, type CommonConfig, type ConfigOf, type ConfigSpec, type Field } from "./config.ts";
export { createLogger, type Logger } from "./logger.ts";
export { connectNats, ensureStreams, natsReady, prepareStreams, streamConfigs, type EnsureStreamsOptions, type NatsSettings, type PrepareStreamsOptions } from "./nats.ts";
export { busUnavailable } from "./bus-errors.ts";
export { BusUsers, busPermissions, inboxPrefixOf, natsPasswordEnv, renderNatsAuthorization, type BusPermission, type BusUser } from "./bus-permissions.ts";
export { appendEvent, decodeEvent, jetstreamOf, newEvent, publishDurably, type Appended, type DurablePublishOptions } from "./event-store.ts";
export { callRpc, callRpcOk, callRpcRaw, requireCaller, requireSessionCaller, serveRpc, throwIfAbandoned, type RawRpcReply, type RpcContext, type RpcHandler, type RpcResult, type ServeRpcOptions } from "./rpc.ts";
export { createMetrics, type Metrics } from "./metrics.ts";
export { createDb, dbReady, migrateToLatest, type Migration } from "./db.ts";
export { DatabaseServices, actingAsUrl, provisionDatabaseRoles, serviceDatabaseUrl, type DatabasePasswords, type DatabaseService } from "./db-roles.ts";
export {
  addOpsRoutes,
  addMetricsRoute,
  backendServices,
  createHttpApp,
  readiness,
  serveReadiness,
  type ReadinessChecks,
} from "./http-server.ts";
export { createTokenVerifier, type TokenVerifier, type TokenVerifierOptions, type VerifiedToken } from "./tokens.ts";
export { runUntilSignalled, type Running } from "./lifecycle.ts";
export { createRedis, redisReady, type Redis } from "./redis.ts";
export { createS3, ensureBucket, s3Ready } from "./s3.ts";
export {
  ensureCheckpointTable,
  readCheckpoint,
  resetCheckpoint,
  runProjection,
  type ProjectionRunner,
  type ProjectionSpec,
} from "./projection.ts";
export { apiTokenResolver, jwksFetcher } from "./jwks-client.ts";
export { runDurableWorker, type DurableWorker, type DurableWorkerSpec, type Outcome as DurableWorkerOutcome } from "./durable-worker.ts";
export { createServiceShell, type ServiceShell } from "./service-shell.ts";
export { authorizeCollab, collabTokenOf, parseCollabUrl, selectCollabProtocol, type CollabGrant } from "./collab-access.ts";
export { lookupDocAccess, requireDocPermission, requireDocRole, type DocAccessQuery } from "./doc-access.ts";
export { rebuildProjection, type ReadModels } from "./rebuild.ts";
export { KeyRing, type EncryptionKey } from "./key-ring.ts";
export { followLive, followedMeta, keepFollowing, storedAtMs, type FollowOptions, type FollowedMessage, type LiveFollower, type StreamPosition } from "./live-follower.ts";
export { discardConsumer } from "./ordered-consumer.ts";
export { advertisedUrl, announceReplica, type AnnounceOptions, type ReplicaAnnouncer } from "./replica-announcer.ts";
export {
  SpanAttributes,
  SpanKind,
  httpTraceContextOf,
  injectTraceHeaders,
  otlpTracesUrl,
  recordErrorCode,
  recordFailure,
  runInTraceContext,
  shutdownTracing,
  spanContextOf,
  startTracing,
  traceContextOf,
  traceHeaders,
  traceHttpHeaders,
  traceHttpServer,
  tracingEnabled,
  withConsumerSpan,
  withSpan,
  type Span,
  type SpanContext,
  type SpanStart,
  type TraceContext,
  type TracingSettings,
} from "./tracing.ts";
export { RevocationList, type RevocationOptions, type SessionClaims } from "./revocations.ts";
export { queueMail, runMailSender, type MailSenderOptions } from "./mail.ts";
export { wakeableSleep } from "./wakeable-sleep.ts";
export { delayUntil, MAX_TIMER_MS } from "./timer-limits.ts";
