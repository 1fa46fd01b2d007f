import { DOCUMENT_CHANGED_FIELD, SERVER_PRESENCE_CLIENT_ID, type DocumentChangedNotice } from "@palimpsest/contracts";
import { encodeAwareness } from "./protocol.ts";
import { encodePresence } from "./presence-rules.ts";
import type { RoomRegistry } from "./room-registry.ts";

/**
 * Tells the open connections of a document that its metadata changed (a rename), so a page shows
 * the new title at once instead of at its next poll. y-protocols has no message for it: the
 * notice is an awareness entry under the server's own client id, with no `user`, so it
 * shows no avatar or cursor, and any y-websocket client takes it in and ignores it. It goes to
 * this replica's connections only; every replica follows the same events and tells its own.
 */
export class DocumentNotices {
  /**
   * Awareness takes an entry only at a higher clock than the last one seen for its client id, and
   * every replica speaks under the same id: the clock is the time, so a client that moves to
   * another replica still takes its notices (give or take the replicas' clock skew).
   */
  private clock = 0;

  constructor(private readonly rooms: RoomRegistry) {}

  async changed(docId: string, what: DocumentChangedNotice["what"]): Promise<void> {
    const room = await this.rooms.peek(docId);
    const peers = room?.allPeers() ?? [];
    if (peers.length === 0) return;
    const notice: DocumentChangedNotice = { what, at: Date.now() };
    this.clock = Math.max(this.clock + 1, notice.at);
    const message = encodeAwareness(encodePresence([{ clientId: SERVER_PRESENCE_CLIENT_ID, clock: this.clock, state: { [DOCUMENT_CHANGED_FIELD]: notice } }]));
    for (const peer of peers) peer.send(message);
  }
}
