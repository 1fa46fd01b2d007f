import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { NatsConnection } from "@nats-io/transport-node";
import { AUDIT_CONTENT_TYPE, AppError, httpStatusOf, rpc, type ExportedFile, type RpcReply } from "@palimpsest/contracts";
import { callRpc, callRpcRaw, type Logger } from "@palimpsest/platform";
import type { ApiRoute } from "./routes.ts";
import { ndjsonBody } from "./ndjson-pages.ts";
import type { RequestGuards } from "./http-policy.ts";
import type { SessionCookies, SessionStep } from "./session-cookies.ts";

export interface RestDeps {
  nc: NatsConnection;
  log: Logger;
  guards: RequestGuards;
  rpcTimeoutMs: number;
  sessionCookies: SessionCookies;
}

/** Each REST route becomes one service call (or a series of them, for a paged NDJSON body). */
export function registerRestRoutes(http: FastifyInstance, routes: readonly ApiRoute[], deps: RestDeps): void {
  const { nc, log, guards, rpcTimeoutMs, sessionCookies } = deps;
  const fileRoutes = routes.filter((r) => r.rawBody);
  for (const route of routes) {
    if (!route.rawBody) http.route(routeOptions(route));
  }
  // Routes whose body is a file: in a scope of their own, so only they take these media types as
  // bytes (JSON included: an archive is stored as it came), each up to its own limit.
  for (const route of fileRoutes) {
    const limits = route.rawBody!;
    void http.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser([...limits.mediaTypes], { parseAs: "buffer", bodyLimit: limits.maxBytes }, (_req, body, done) => done(null, body));
      scope.route({ ...routeOptions(route), bodyLimit: limits.maxBytes });
    });
  }

  function routeOptions(route: ApiRoute) {
    return {
      method: route.method,
      url: route.url,
      schema: route.schema,
      preHandler: route.auth ? guards.signedIn : guards.anonymous,
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        if (route.sessionOnly && req.caller?.token) {
          throw new AppError("API_TOKEN_NOT_ALLOWED", "an API token cannot do this; sign in to manage your account");
        }
        const routeInput = route.input({
          params: (req.params ?? {}) as Record<string, unknown>,
          query: (req.query ?? {}) as Record<string, unknown>,
          body: req.body,
          headers: req.headers,
        });
        const input = route.session ? sessionCookies.input(route.session, req, routeInput) : routeInput;
        const request = (cursor?: string) => ({
          requestId: req.id,
          // The service verifies the token itself: the bus carries proof of who is calling, not a claim.
          ...(req.accessToken ? { token: req.accessToken } : {}),
          input: cursor === undefined ? input : { ...(input as Record<string, unknown>), cursor },
        });
        if (route.download) {
          const result = await callRpc(nc, route.subject, request(), rpcTimeoutMs);
          if (!result.ok) return refuse(reply, result.error);
          const file = result.body as ExportedFile;
          return reply
            .status(200)
            .type(file.contentType)
            .header("content-disposition", `attachment; filename="${file.filename.replace(/[^\w.-]/g, "_")}"`)
            .header("cache-control", "no-store")
            .header("x-content-type-options", "nosniff")
            // Saved, never shown here: were an exported page rendered on this origin, it could run nothing.
            .header("content-security-policy", "default-src 'none'; sandbox")
            .send(file.content);
        }
        if (route.ndjsonPages) {
          const call = (cursor?: string) => callRpc(nc, route.subject, request(cursor), rpcTimeoutMs);
          const first = await call();
          if (!first.ok) return refuse(reply, first.error);
          return reply.status(200).type(`${AUDIT_CONTENT_TYPE}; charset=utf-8`).header("cache-control", "no-store").send(ndjsonBody(first, call, log));
        }
        const account = route.signInAccount?.(req.body);
        if (account !== undefined) await guards.beforeSignIn(req, reply, account);
        if (route.session) {
          const result = await callRpc(nc, route.subject, request(), rpcTimeoutMs);
          if (account !== undefined) await guards.afterSignIn(req, account, result.ok ? result.status : httpStatusOf(result.error.code));
          return sessionReply(route.session, req, reply, result);
        }
        // The service's JSON goes to the client as it came: a large body is not parsed and re-encoded here.
        const reply_ = await callRpcRaw(nc, route.subject, request(), rpcTimeoutMs);
        if (account !== undefined) await guards.afterSignIn(req, account, reply_.ok ? reply_.status : httpStatusOf(reply_.error.code));
        if (!reply_.ok) return refuse(reply, reply_.error);
        if (reply_.status === 204 || reply_.json.byteLength === 0) return reply.status(reply_.status).send();
        return reply.status(reply_.status).type("application/json; charset=utf-8").send(Buffer.from(reply_.json.buffer, reply_.json.byteOffset, reply_.json.byteLength));
      },
    };
  }

  /** A session route's answer: the refresh token goes into the cookie when the browser asked for that. */
  function sessionReply(step: SessionStep, req: FastifyRequest, reply: FastifyReply, result: RpcReply) {
    const cookieMode = sessionCookies.cookieMode(step, req);
    const endsCookie = step === "end" || (cookieMode && !result.ok && httpStatusOf(result.error.code) === 401);
    if (endsCookie && sessionCookies.present(req)) sessionCookies.clear(reply, req);
    if (!result.ok) return refuse(reply, result.error);
    const status = result.status;
    if (status === 204 || result.body === null || result.body === undefined) return reply.status(status).send();
    const body = cookieMode && isRecord(result.body) ? sessionCookies.issued(reply, req, result.body) : result.body;
    return reply.status(status).header("cache-control", "no-store").send(body);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A service's refusal as the client's answer; a service that says when to come back sets Retry-After. */
function refuse(reply: FastifyReply, error: RpcError) {
  const details = error.details as { retryAfterSeconds?: unknown } | undefined;
  const retryAfter = details?.retryAfterSeconds;
  if (typeof retryAfter === "number" && Number.isFinite(retryAfter) && retryAfter > 0) reply.header("retry-after", String(Math.ceil(retryAfter)));
  return reply.status(httpStatusOf(error.code)).send({ error });
}

type RpcError = Extract<RpcReply, { ok: false }>["error"];

/** The signing keys, from the auth service, for anyone verifying our tokens; briefly cacheable. */
export function registerJwksRoute(http: FastifyInstance, nc: NatsConnection, rpcTimeoutMs: number): void {
  http.get("/.well-known/jwks.json", async (_req, reply) => {
    const r = await callRpc(nc, rpc.auth.jwks, { requestId: _req.id, input: {} }, rpcTimeoutMs);
    if (!r.ok) throw new AppError(r.error.code, r.error.message);
    return reply.header("cache-control", "public, max-age=60").send(r.body);
  });
}

/**
 * The public keys that verify the audit trail's signed checkpoints, from the history service, each
 * with the period it signed in; briefly cacheable (a new key shows up within a minute).
 */
export function registerAuditKeysRoute(http: FastifyInstance, nc: NatsConnection, rpcTimeoutMs: number): void {
  http.get("/.well-known/audit-keys.json", async (req, reply) => {
    const r = await callRpc(nc, rpc.history.auditKeys, { requestId: req.id, input: {} }, rpcTimeoutMs);
    if (!r.ok) throw new AppError(r.error.code, r.error.message);
    return reply.header("cache-control", "public, max-age=60").send(r.body);
  });
}
