import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { Streams, canWrite, closeCodeOf, subjects, type EventPayload, type Role } from "@palimpsest/contracts";
import { decodeEvent, followLive, type LiveFollower, type Logger } from "@palimpsest/platform";
import type { RoomRegistry } from "./room-registry.ts";

/**
 * Makes role changes take effect on open connections as soon as they are stored: a demoted
 * editor's socket stops being able to write, a removed member's socket closes, and so do all
 * sockets of a document moved to the trash.
 */
export async function followAccessChanges(js: JetStreamClient, jsm: JetStreamManager, rooms: RoomRegistry, log: Logger): Promise<LiveFollower> {
  const setRole = async (docId: string, userId: string, role: Role) => {
    const room = await rooms.peek(docId);
    for (const peer of room?.peersOf(userId) ?? []) peer.canWrite = canWrite(role);
  };
  return followLive({
    js,
    jsm,
    stream: Streams.docs,
    filterSubject: subjects.allDocEvents(),
    log,
    onError: (err) => log.error({ err }, "stopped following access changes"),
    onMessage: async (m) => {
      try {
        const event = decodeEvent(m);
        switch (event.type) {
          case "doc.role-changed.v1": {
            const d = event.data as EventPayload<"doc.role-changed.v1">;
            await setRole(d.docId, d.userId, d.role);
            break;
          }
          case "doc.ownership-transferred.v1": {
            const d = event.data as EventPayload<"doc.ownership-transferred.v1">;
            await setRole(d.docId, d.fromUserId, "editor");
            await setRole(d.docId, d.toUserId, "owner");
            break;
          }
          case "doc.member-removed.v1": {
            const d = event.data as EventPayload<"doc.member-removed.v1">;
            const room = await rooms.peek(d.docId);
            for (const peer of room?.peersOf(d.userId) ?? []) peer.close(closeCodeOf("FORBIDDEN"), "you no longer have access to this document");
            break;
          }
          case "doc.trashed.v1": {
            const d = event.data as EventPayload<"doc.trashed.v1">;
            const room = await rooms.peek(d.docId);
            for (const peer of room?.allPeers() ?? []) peer.close(closeCodeOf("NOT_FOUND"), "the document was moved to the trash");
            break;
          }
          default:
            break;
        }
      } catch (err) {
        log.error({ err, seq: m.seq }, "could not apply an access change");
      }
    },
  });
}
