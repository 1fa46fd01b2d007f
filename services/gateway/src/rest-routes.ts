import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { NatsConnection } from "@nats-io/transport-node";
import { AUDIT_CONTENT_TYPE, AppError, httpStatusOf, rpc, type RpcReply } from "@palimpsest/contracts";
import { callRpc, callRpcRaw, type Logger } from "@palimpsest/platform";
import type { ApiRoute } from "./routes.ts";
import { ndjsonBody } from "./ndjson-pages.ts";
import type { RequestGuards } from "./http-policy.ts";

export interface RestDeps {
  nc: NatsConnection;
  log: Logger;
  guards: RequestGuards;
  rpcTimeoutMs: number;
}

/** Each REST route becomes one service call (or a series of them, for a paged NDJSON body). */
export function registerRestRoutes(http: FastifyInstance, routes: readonly ApiRoute[], deps: RestDeps): void {
  const { nc, log, guards, rpcTimeoutMs } = deps;
  for (const route of routes) {
    http.route({
      method: route.method,
      url: route.url,
      schema: route.schema,
      preHandler: route.auth ? guards.signedIn : guards.anonymous,
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const input = route.input({
          params: (req.params ?? {}) as Record<string, unknown>,
          query: (req.query ?? {}) as Record<string, unknown>,
          body: req.body,
          headers: req.headers,
        });
        const request = (cursor?: string) => ({
          requestId: req.id,
          // The service verifies the token itself: the bus carries proof of who is calling, not a claim.
          ...(req.accessToken ? { token: req.accessToken } : {}),
          input: cursor === undefined ? input : { ...(input as Record<string, unknown>), cursor },
        });
        if (route.ndjsonPages) {
          const call = (cursor?: string) => callRpc(nc, route.subject, request(cursor), rpcTimeoutMs);
          const first = await call();
          if (!first.ok) return refuse(reply, first.error);
          return reply.status(200).type(`${AUDIT_CONTENT_TYPE}; charset=utf-8`).header("cache-control", "no-store").send(ndjsonBody(first, call, log));
        }
        // The service's JSON goes to the client as it came: a large body is not parsed and re-encoded here.
        const reply_ = await callRpcRaw(nc, route.subject, request(), rpcTimeoutMs);
        if (!reply_.ok) return refuse(reply, reply_.error);
        if (reply_.status === 204 || reply_.json.byteLength === 0) return reply.status(reply_.status).send();
        return reply.status(reply_.status).type("application/json; charset=utf-8").send(Buffer.from(reply_.json.buffer, reply_.json.byteOffset, reply_.json.byteLength));
      },
    });
  }
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
