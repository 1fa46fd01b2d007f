import type { AnyDomainEvent, WebhookEventType } from "@palimpsest/contracts";

/** What a delivery carries: the public type and the data, shaped for receivers. */
export interface WebhookMessage {
  type: WebhookEventType;
  data: Record<string, unknown>;
}

/**
 * Internal events → public webhook messages, pure. `data` names ids, the actor and times, never
 * secrets, token hashes, invited emails or object-store keys. A comment's body is sent: it is what
 * an integration (a chat channel, a ticket) wants, and the only one who can register an endpoint,
 * the owner, reads every comment anyway. Events with no public counterpart answer undefined.
 * (`doc.created` is listed for completeness: an endpoint is registered on an existing document,
 * so it only ever fires for endpoints that outlive their document's recreation, which ids forbid.)
 */
export function webhookMessageOf(event: AnyDomainEvent, title: string | undefined): WebhookMessage | undefined {
  const docId = "docId" in event.data && typeof event.data.docId === "string" ? event.data.docId : undefined;
  if (docId === undefined) return undefined;
  const base = { docId, ...(title !== undefined ? { title } : {}), ...(event.actorId ? { actorId: event.actorId } : {}), at: event.at };
  switch (event.type) {
    case "doc.created.v1":
      return { type: "doc.created", data: { ...base, title: event.data.title, kind: event.data.kind, ownerId: event.data.ownerId } };
    case "doc.renamed.v1":
      return { type: "doc.renamed", data: { ...base, title: event.data.title } };
    case "doc.shared.v1":
      return { type: "doc.shared", data: { ...base, userId: event.data.userId, role: event.data.role } };
    case "doc.trashed.v1":
      return { type: "doc.trashed", data: base };
    case "doc.untrashed.v1":
      return { type: "doc.restored", data: base };
    case "comment.created.v1": {
      const d = event.data;
      return { type: "comment.created", data: { ...base, commentId: d.commentId, ...(d.threadId ? { threadId: d.threadId } : {}), body: d.body, mentions: d.mentions } };
    }
    case "comment.resolved.v1":
      return { type: "comment.resolved", data: { ...base, commentId: event.data.commentId } };
    case "file.uploaded.v1": {
      const d = event.data;
      return { type: "file.uploaded", data: { ...base, fileId: d.fileId, name: d.name, contentType: d.contentType, size: d.size, uploaderId: d.uploaderId } };
    }
    default:
      return undefined;
  }
}

/** The `doc.edited` message of an edit window: which versions it covers and when the last was stored. */
export function editedMessage(docId: string, title: string | undefined, fromVersion: number, toVersion: number, lastEditAt: string): WebhookMessage {
  return { type: "doc.edited", data: { docId, ...(title !== undefined ? { title } : {}), fromVersion, toVersion, at: lastEditAt } };
}

/** The JSON body of a delivery (Standard Webhooks: `{type, timestamp, data}`). */
export function deliveryBody(message: WebhookMessage, timestamp: string): string {
  return JSON.stringify({ type: message.type, timestamp, data: message.data });
}
