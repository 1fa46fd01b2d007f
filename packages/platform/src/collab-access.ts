import type { NatsConnection } from "@nats-io/transport-node";
import { AppError, COLLAB_PROTOCOL, COLLAB_TOKEN_PROTOCOL_PREFIX, isSubjectSafeId, type CallerApiToken, type Role } from "@palimpsest/contracts";
import { randomUUID } from "node:crypto";
import { lookupDocAccess } from "./doc-access.ts";
import type { TokenVerifier } from "./tokens.ts";

export interface CollabGrant {
  userId: string;
  sessionId: string;
  name: string;
  /** The role the connection acts with: an API token's is capped by its scopes. */
  role: Role;
  /** Through an API token: which one, so its edits name it. */
  apiToken?: CallerApiToken;
  tokenExpiresAt: number;
  tokenIssuedAt: number;
}

/** Parses `/collab/<docId>?token=...` (the y-websocket provider appends the room name to its URL). */
export function parseCollabUrl(url: string | undefined): { docId: string; token: string | null } | null {
  if (!url) return null;
  const parsed = new URL(url, "http://localhost");
  const match = /^\/collab\/([^/]+)\/?$/.exec(parsed.pathname);
  if (!match?.[1]) return null;
  const docId = decodeURIComponent(match[1]);
  if (!isSubjectSafeId(docId)) return null;
  return { docId, token: parsed.searchParams.get("token") };
}

/**
 * The access token of a /collab upgrade: from the subprotocols offered (see COLLAB_PROTOCOL),
 * else from `?token=` for plain y-websocket clients. `inQuery` says which, so a relay passes
 * the token on the same way.
 */
export function collabTokenOf(req: { url?: string | undefined; headers: Record<string, string | string[] | undefined> }): { token: string | null; inQuery: boolean } {
  const header = req.headers["sec-websocket-protocol"];
  const offered = typeof header === "string" ? header.split(",").map((p) => p.trim()) : [];
  const fromProtocol = offered.find((p) => p.startsWith(COLLAB_TOKEN_PROTOCOL_PREFIX));
  if (fromProtocol) return { token: fromProtocol.slice(COLLAB_TOKEN_PROTOCOL_PREFIX.length), inQuery: false };
  const token = parseCollabUrl(req.url)?.token ?? null;
  return { token, inQuery: token !== null };
}

/** For ws's `handleProtocols`: answers with the collab protocol when offered, never echoing the token. */
export function selectCollabProtocol(offered: Set<string>): string | false {
  return offered.has(COLLAB_PROTOCOL) ? COLLAB_PROTOCOL : false;
}

/**
 * Decides whether a /collab connection may open: a valid access token, and a role on the document.
 * Strangers get NOT_FOUND-like FORBIDDEN either way, so a document's existence is not revealed.
 */
export async function authorizeCollab(
  verifier: TokenVerifier,
  nc: NatsConnection,
  docId: string,
  token: string | null,
  requestId: string = randomUUID(),
): Promise<CollabGrant> {
  if (!token) throw new AppError("UNAUTHENTICATED", "an access token is required");
  const claims = await verifier.verify(token);
  const access = await lookupDocAccess(nc, { docId, userId: claims.userId, scopes: claims.token?.scopes, requestId, timeoutMs: 3_000 });
  if (!access.role) throw new AppError("FORBIDDEN", "you do not have access to this document");
  return {
    userId: claims.userId,
    sessionId: claims.sessionId,
    name: claims.name,
    role: access.role,
    ...(claims.token ? { apiToken: claims.token } : {}),
    tokenExpiresAt: claims.expiresAt,
    tokenIssuedAt: claims.issuedAt,
  };
}
