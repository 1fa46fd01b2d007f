import type { NatsConnection } from "@nats-io/transport-node";
import { AppError, isSubjectSafeId, type Role } from "@palimpsest/contracts";
import { randomUUID } from "node:crypto";
import { lookupDocAccess } from "./doc-access.ts";
import type { TokenVerifier } from "./tokens.ts";

export interface CollabGrant {
  userId: string;
  sessionId: string;
  name: string;
  role: Role;
  tokenExpiresAt: number;
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
  const access = await lookupDocAccess(nc, { docId, userId: claims.userId, requestId, timeoutMs: 3_000 });
  if (!access.role) throw new AppError("FORBIDDEN", "you do not have access to this document");
  return { userId: claims.userId, sessionId: claims.sessionId, name: claims.name, role: access.role, tokenExpiresAt: claims.expiresAt };
}
