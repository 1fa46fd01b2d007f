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
