import { DOCUMENT_CHANGED_FIELD, SERVER_PRESENCE_CLIENT_ID, type DocumentChangedNotice } from "@palimpsest/contracts";
import { encodeAwareness } from "./protocol.ts";
import { encodePresence } from "./presence-rules.ts";
import type { RoomRegistry } from "./room-registry.ts";

/**
 * Awareness takes an entry only at a higher clock than the last one seen for its client id, and
 * every replica speaks under the same id: the clock is the time, so a client that moves to
 * another replica still takes its notices (give or take the replicas' clock skew).
 */
let clock = 0;

/**
 * The message that tells a document's open connections that it changed in a way their page must
 * show (a rename, a restore). y-protocols has no message for it: the notice is an awareness
 * entry under the server's own client id, with no `user`, so it shows no avatar or cursor, and
 * any y-websocket client takes it in and ignores it. It goes to one replica's connections; every
 * replica hears the same events and tells its own.
 */
export function documentNoticeMessage(notice: DocumentChangedNotice): Uint8Array {
  clock = Math.max(clock + 1, notice.at);
  return encodeAwareness(encodePresence([{ clientId: SERVER_PRESENCE_CLIENT_ID, clock, state: { [DOCUMENT_CHANGED_FIELD]: notice } }]));
}

/**
 * Tells the open connections of a document that it was renamed or its comments changed, so their
 * pages show it at once.
 */
export class DocumentNotices {
  constructor(private readonly rooms: RoomRegistry) {}

  /** `version`: the DOCS stream sequence of the change, which the REST API answers as the document's version. */
  async changed(docId: string, what: "renamed" | "comments", version: number): Promise<void> {
    const room = await this.rooms.peek(docId);
    const peers = room?.allPeers() ?? [];
    if (peers.length === 0) return;
    const message = documentNoticeMessage({ what, at: Date.now(), version });
    for (const peer of peers) peer.send(message);
  }
}
