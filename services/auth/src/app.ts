import type { FastifyInstance } from "fastify";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Kysely } from "kysely";
import { ResolvedApiToken, encodeCollabControl, parse, revokedSessionKey, rpc, subjects, type AnyDomainEvent } from "@palimpsest/contracts";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  appendEvent,
  createServiceShell,
  createTokenVerifier,
  dbReady,
  ensureCheckpointTable,
  jetstreamOf,
  natsReady,
  redisReady,
  runMailSender,
  runProjection,
  serveRpc,
  type Logger,
  type Metrics,
  type ProjectionRunner,
  type Redis,
} from "@palimpsest/platform";
import { createAccounts } from "./accounts.ts";
import { createApiTokens } from "./api-tokens.ts";
import { applyAuthEvent } from "./auth-projection.ts";
import { authProjectionSpecs } from "./projections.ts";
import { SigningKeys } from "./signing-keys.ts";
import { KeyRing } from "./key-encryption.ts";
import type { AuthConfig } from "./config.ts";
import type { AuthDb } from "./schema.ts";

export interface AuthDeps {
  config: AuthConfig;
  nc: NatsConnection;
  db: Kysely<AuthDb>;
  redis: Redis;
  log: Logger;
  metrics: Metrics;
}

export interface AuthApp {
  http: FastifyInstance;
  keys: SigningKeys;
  projections: ProjectionRunner[];
  close(): Promise<void>;
}

/** Builds the auth service from its connections and config; listening is main.ts's job. */
export async function buildAuthApp(deps: AuthDeps): Promise<AuthApp> {
  const { config, nc, db, redis, log, metrics } = deps;
  const js = jetstreamOf(nc);
  const keys = new SigningKeys(db, KeyRing.parse(config.signingKeyEncryptionKeys), config.keyRotationDays * 86_400_000, config.signingKeyCacheMs);
  const resealed = await keys.sealStoredKeys();
  if (resealed > 0) log.info({ keys: resealed }, "sealed stored signing keys with the current encryption key");
  await keys.active();
  await ensureCheckpointTable(db);

  const onSessionRevoked = async (sessionId: string) => {
    // Gateways refuse the session's still-valid access tokens from now on, and live sockets close.
    // The notice first: services keep a local copy of them, which decides when Redis is down.
    nc.publish(subjects.collabControl(), encodeCollabControl({ type: "session.revoked", sessionId }));
    // Long enough to outlive any access token of the session, and any API token's resolution a
    // service still remembers (seconds): after that, auth itself refuses a revoked API token.
    await redis.set(revokedSessionKey(sessionId), "1", "PX", (config.accessTokenTtlSeconds + 60) * 1000);
  };
  const accounts = createAccounts({ db, js, keys, config, log, metrics, onSessionRevoked });
  const apiTokens = createApiTokens({
    db,
    async append(subject: string, event: AnyDomainEvent, expectedSeq: number | undefined) {
      const { streamSeq } = await appendEvent(js, subject, event, expectedSeq === undefined ? {} : { expectedSeq });
      await db.transaction().execute((trx) => applyAuthEvent(trx, event, streamSeq));
    },
    // An API token's id is its session id wherever it is presented.
    onRevoked: onSessionRevoked,
  });
  const rpcSubs = serveRpc(
    nc,
    "auth",
    {
      [rpc.auth.register]: accounts.register,
      [rpc.auth.login]: accounts.login,
      [rpc.auth.refresh]: accounts.refresh,
      [rpc.auth.logout]: accounts.logout,
      [rpc.auth.me]: accounts.me,
      [rpc.auth.jwks]: accounts.jwks,
      [rpc.auth.lookup]: accounts.lookup,
      [rpc.auth.logoutEverywhere]: accounts.logoutEverywhere,
      [rpc.auth.changePassword]: accounts.changePassword,
      [rpc.auth.forgotPassword]: accounts.forgotPassword,
      [rpc.auth.resetPassword]: accounts.resetPassword,
      [rpc.auth.confirmRegistration]: accounts.confirmRegistration,
      [rpc.auth.listApiTokens]: apiTokens.list,
      [rpc.auth.createApiToken]: apiTokens.create,
      [rpc.auth.revokeApiToken]: apiTokens.revoke,
      [rpc.auth.resolveApiToken]: apiTokens.resolve,
    },
    // Auth checks tokens against its own keys and API tokens against its own table, not its own answer on the bus.
    {
      log,
      metrics,
      verifier: createTokenVerifier({
        fetchJwks: () => keys.jwks(),
        issuer: config.jwtIssuer,
        audience: config.jwtAudience,
        resolveApiToken: async (token) => parse(ResolvedApiToken, (await apiTokens.resolve({ token })).body, "resolved API token"),
      }),
    },
  );
  const projections = authProjectionSpecs.map(({ spec, tables, batchSize }) =>
    runProjection({ db, databaseUrl: config.databaseUrl, js, log, metrics, spec, tables, ...(batchSize ? { batchSize } : {}) }),
  );
  // The outbox's one sender runs beside auth (whose mail it mostly is); any service may queue mail.
  const mailSender = runMailSender({ js, jsm: await jetstreamManager(nc), log, smtpUrl: config.smtpUrl, from: config.mailFrom, maxAttempts: config.mailMaxAttempts });
  const checks = { nats: () => natsReady(nc), postgres: () => dbReady(db), redis: () => redisReady(redis) };
  const shell = createServiceShell({ service: "auth", nc, log, metrics, checks });
  shell.track(...rpcSubs);
  const http = shell.http;
  http.get("/.well-known/jwks.json", async () => keys.jwks());

  return {
    http,
    keys,
    projections,
    async close() {
      shell.beginShutdown();
      await Promise.all([...projections.map((p) => p.stop()), mailSender.stop()]);
      await shell.close();
    },
  };
}
