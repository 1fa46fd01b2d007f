import type { NatsConnection } from "@nats-io/transport-node";
import { ResolvedApiToken, parse, rpc } from "@palimpsest/contracts";
import type { JSONWebKeySet } from "jose";
import { randomUUID } from "node:crypto";
import { callRpcOk } from "./rpc.ts";

/** Fetches the auth service's public keys over NATS, for token verifiers in other services. */
export function jwksFetcher(nc: NatsConnection): () => Promise<JSONWebKeySet> {
  return () => callRpcOk<JSONWebKeySet>(nc, rpc.auth.jwks, { requestId: randomUUID(), input: {} }, 3_000);
}

/** Resolves API tokens with the auth service over NATS, for token verifiers in other services. */
export function apiTokenResolver(nc: NatsConnection): (token: string) => Promise<ResolvedApiToken> {
  return async (token) => parse(ResolvedApiToken, await callRpcOk<unknown>(nc, rpc.auth.resolveApiToken, { requestId: randomUUID(), input: { token } }, 3_000), "resolved API token");
}
