import type { NatsConnection } from "@nats-io/transport-node";
import { AppError, can, canWithScopes, roleAllowedByScopes, rpc, type AccessResult, type ApiTokenScope, type Permission, type Role } from "@palimpsest/contracts";
import { randomUUID } from "node:crypto";
import { callRpcOk } from "./rpc.ts";

export interface DocAccessQuery {
  docId: string;
  userId: string;
  /** The caller's API token's scopes, which cap the role (see roleAllowedByScopes); none for a signed-in session. */
  scopes?: readonly ApiTokenScope[] | undefined;
  /** Carried into the docs service's logs; a fresh id when the caller has none. */
  requestId?: string;
  timeoutMs?: number;
  /** Read from the stream, not the docs service's memory: see AccessInput. */
  fresh?: boolean;
}

/** The user's role on a document (null for strangers and while it is in the trash), as the docs service answers it from memory. */
export async function lookupDocAccess(nc: NatsConnection, q: DocAccessQuery): Promise<AccessResult> {
  const access = await callRpcOk<AccessResult>(nc, rpc.docs.access, { requestId: q.requestId || randomUUID(), input: { docId: q.docId, userId: q.userId, ...(q.fresh ? { fresh: true } : {}) } }, q.timeoutMs);
  const role = roleAllowedByScopes(access.role, q.scopes);
  return { role, kind: role ? access.kind : null };
}

/**
 * The user's role on a document, or NOT_FOUND for a stranger, as from the docs routes: they
 * learn nothing, not even that the document exists. What the role may do is for the caller to
 * ask of the permissions in contracts.
 */
export async function requireDocRole(nc: NatsConnection, q: DocAccessQuery): Promise<Role> {
  const { role } = await lookupDocAccess(nc, q);
  if (!role) throw new AppError("NOT_FOUND", "document not found");
  return role;
}

/**
 * The user's role on a document when it may do `permission`: NOT_FOUND for a stranger (as
 * requireDocRole), FORBIDDEN for a member whose role may not.
 */
export async function requireDocPermission(nc: NatsConnection, q: DocAccessQuery, permission: Permission, refusal: string): Promise<Role> {
  const role = await requireDocRole(nc, q);
  // Through an API token, only what a token may do at all (never the history), within its scopes.
  if (!canWithScopes(role, permission, q.scopes)) throw new AppError(q.scopes !== undefined && can(role, permission) ? "API_TOKEN_NOT_ALLOWED" : "FORBIDDEN", refusal);
  return role;
}
