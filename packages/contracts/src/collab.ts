// What the /collab protocol says beyond y-protocols, shared by the sync service and the web
// client. Kept free of the schema library: the editor screens load it.

/**
 * The reason of the y-protocols permission-denied message sync sends when it drops an update
 * from someone who may only read. Unlike a refusal before the close of a connection, the
 * connection stays open: the web client recognises it by `isReadOnlyRefusal` and keeps the
 * edits on the device.
 */
export const READ_ONLY_REFUSAL = "read-only: your changes are not saved";

export function isReadOnlyRefusal(reason: string): boolean {
  return /read-only/i.test(reason);
}

/**
 * The WebSocket subprotocol a /collab client may offer, with its access token offered as a
 * second "protocol" (`palimpsest.token.<jwt>`): headers stay out of proxies' access logs, a URL's
 * query string does not. The server answers with COLLAB_PROTOCOL, never with the token.
 * Plain y-websocket clients may still put the token in `?token=`.
 */
export const COLLAB_PROTOCOL = "palimpsest.collab.v1";
export const COLLAB_TOKEN_PROTOCOL_PREFIX = "palimpsest.token.";

/** The subprotocols a client offers to open /collab with `token`. */
export function collabProtocols(token: string): string[] {
  return [COLLAB_PROTOCOL, `${COLLAB_TOKEN_PROTOCOL_PREFIX}${token}`];
}

/**
 * The awareness field of the server's own presence entry in a document: sync sets it, under
 * SERVER_PRESENCE_CLIENT_ID with no `user` (so no avatar or cursor shows it), when the document's
 * metadata changed while it was open, so open pages ask for it again at once. y-protocols has no
 * message for "the title changed"; any y-websocket client takes in the entry and ignores it.
 * The value says what changed, when (milliseconds since the epoch) and, for a restore, by whom.
 */
export const DOCUMENT_CHANGED_FIELD = "documentChanged";

/**
 * The client id of that entry, the same on every replica: one past the largest uint32, so no Y.Doc
 * (whose ids are uint32) can draw it. y-websocket clients send back every awareness change they
 * receive, this entry included; the server drops it from what clients send.
 */
export const SERVER_PRESENCE_CLIENT_ID = 2 ** 32;

/**
 * `renamed`: the title changed. `access`: this connection's role changed (sent to that user's
 * connections only). `comments`: a comment was added, changed, resolved, reopened or deleted. `restored`: an earlier version was restored, by the user `by`, so text
 * written since may be gone from the page (it stays in the history).
 *
 * `version` is the document's version (its `DocView.version`) that the change made. The notice
 * follows the stored event, and the read model the REST API answers from may not hold it yet:
 * a page that reads an older version asks again until it sees this one.
 */
export type DocumentChangedNotice = { what: "renamed" | "access" | "comments"; at: number; version?: number } | { what: "restored"; at: number; by: string };

/** The notice in an awareness state, if it holds one. */
export function documentChangedIn(state: unknown): DocumentChangedNotice | undefined {
  if (typeof state !== "object" || state === null) return undefined;
  const notice = (state as Record<string, unknown>)[DOCUMENT_CHANGED_FIELD];
  if (typeof notice !== "object" || notice === null) return undefined;
  const { what, at, by } = notice as Record<string, unknown>;
  if (typeof at !== "number") return undefined;
  if (what === "renamed" || what === "access" || what === "comments") {
    const { version } = notice as Record<string, unknown>;
    return Number.isSafeInteger(version) && (version as number) > 0 ? { what, at, version: version as number } : { what, at };
  }
  if (what === "restored" && typeof by === "string") return { what, at, by };
  return undefined;
}
