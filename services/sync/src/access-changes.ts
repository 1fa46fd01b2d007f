import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { CloseCodes, Streams, canWrite, closeCodeOf, roleAllowedByScopes, subjects, type EventPayload, type Role } from "@palimpsest/contracts";
import { decodeEvent, keepFollowing, type LiveFollower, type Logger } from "@palimpsest/platform";
import type { Peer } from "./doc-room.ts";
import type { RoomRegistry } from "./room-registry.ts";
import { documentNoticeMessage, type DocumentNotices } from "./document-notices.ts";

/** What an access change means for a user's open connections to a document. */
export type AccessChange =
  | { kind: "role"; role: Role }
  | { kind: "removed" }
  | { kind: "trashed" }
  | { kind: "untrashed" }
  /** Too many changes since to tell: the connection must authorize again. */
  | { kind: "unknown" };

/** Applies a change to one open connection. */
export function applyAccessChange(peer: Peer, change: AccessChange): void {
  switch (change.kind) {
    case "role":
      // A token's scopes cap the new role as they capped the old one.
      peer.canWrite = canWrite(roleAllowedByScopes(change.role, peer.apiToken?.scopes));
      return;
    case "removed":
      peer.close(closeCodeOf("FORBIDDEN"), "you no longer have access to this document");
      return;
    case "trashed":
      peer.close(closeCodeOf("NOT_FOUND"), "the document was moved to the trash");
      return;
    case "unknown":
      peer.close(CloseCodes.tryAgainLater, "access changed while connecting; reconnect");
      return;
    case "untrashed":
      return;
  }
}

/**
 * The newest access change per document and user, as this replica heard it, so a connection
 * can learn what changed between its role lookup and its joining the room: a change applied to
 * the room's peers in that window would otherwise miss it. Bounded; the oldest go first.
 */
export class RecentAccessChanges {
  private count = 0;
  /** The newest mark of an entry dropped to stay within bounds. */
  private dropped = 0;
  private readonly byKey = new Map<string, { mark: number; change: AccessChange }>();

  constructor(private readonly maxEntries = 10_000) {}

  /** Taken before a connection's role lookup; passed to `since` once it has joined. */
  mark(): number {
    return this.count;
  }

  /** `docId` null: a change to the user's access on documents this replica cannot name (a workspace role). */
  record(docId: string | null, userId: string | null, change: AccessChange): void {
    const key = docId === null ? `\u0000${userId ?? ""}` : userId === null ? docId : `${docId}\u0000${userId}`;
    this.byKey.delete(key);
    this.byKey.set(key, { mark: ++this.count, change });
    while (this.byKey.size > this.maxEntries) {
      const oldest = this.byKey.entries().next().value;
      if (!oldest) break;
      this.byKey.delete(oldest[0]);
      this.dropped = oldest[1].mark;
    }
  }

  /** The newest change to the user's access recorded after `mark` (the document's own included), if any. */
  since(mark: number, docId: string, userId: string): AccessChange | undefined {
    if (this.dropped > mark) return { kind: "unknown" };
    const forDoc = this.byKey.get(docId);
    const forUser = this.byKey.get(`${docId}\u0000${userId}`);
    const forUserAnywhere = this.byKey.get(`\u0000${userId}`);
    // A trash outranks a role change: the connection must go either way; so does a move to another workspace.
    if (forDoc && forDoc.mark > mark && (forDoc.change.kind === "trashed" || forDoc.change.kind === "unknown")) return forDoc.change;
    // Of a change to this document and one to the user's workspace roles, the newer tells.
    const newest = [forUser, forUserAnywhere].filter((e) => e !== undefined && e.mark > mark).sort((a, b) => b!.mark - a!.mark)[0];
    return newest?.change;
  }
}

/**
 * Makes role changes take effect on open connections as soon as they are stored: a demoted
 * editor's socket stops being able to write, a removed member's socket closes, and so do all
 * sockets of a document moved to the trash. A rename or a comment is passed on to `notices`.
 */
export async function followAccessChanges(
  js: JetStreamClient,
  jsm: JetStreamManager,
  rooms: RoomRegistry,
  log: Logger,
  recent: RecentAccessChanges = new RecentAccessChanges(),
  notices?: DocumentNotices,
  /**
   * A user's role on a document now, read from the stream by the docs service, which alone weighs
   * a share against a workspace role: an event names one of the two, not what they add up to.
   */
  roleNow?: (docId: string, userId: string) => Promise<Role | null>,
): Promise<LiveFollower> {
  /** `version`: the DOCS stream sequence of the event, the document's version once the REST API has it. */
  const apply = async (docId: string, userId: string | null, change: AccessChange, version: number) => {
    recent.record(docId, userId, change);
    const room = await rooms.peek(docId);
    const peers = userId === null ? (room?.allPeers() ?? []) : (room?.peersOf(userId) ?? []);
    // A new role takes effect on the socket at once; the page is told too, so it stops offering
    // to write (or starts) now rather than at its next look.
    const told = change.kind === "role" ? documentNoticeMessage({ what: "access", at: Date.now(), version }) : undefined;
    for (const peer of peers) {
      applyAccessChange(peer, change);
      if (told) peer.send(told);
    }
  };
  /**
   * What an event means for a user on a document: the role the docs service now gives them when it
   * can be asked (`told`, the event's own word, otherwise); when it cannot answer, the connection
   * must authorize again.
   */
  const changeFor = async (docId: string, userId: string, told: AccessChange): Promise<AccessChange> => {
    if (!roleNow) return told;
    try {
      const role = await roleNow(docId, userId);
      return role ? { kind: "role", role } : { kind: "removed" };
    } catch (err) {
      log.warn({ err, docId }, "could not read a changed role; the connection authorizes again");
      return { kind: "unknown" };
    }
  };
  const reweigh = async (docId: string, userId: string, told: AccessChange, version: number) => apply(docId, userId, await changeFor(docId, userId, told), version);
  return keepFollowing({
    js,
    jsm,
    stream: Streams.docs,
    // Documents' events and workspaces': a workspace role gives a role on each of its documents.
    filterSubject: subjects.allDocsStream(),
    log,
    // Changes stored meanwhile are applied once it follows again: late, not lost.
    onLost: (err) => log.error({ err }, "lost the stream of access changes; following it again"),
    onMessage: async (m) => {
      try {
        const event = decodeEvent(m);
        switch (event.type) {
          case "doc.shared.v1": {
            const d = event.data as EventPayload<"doc.shared.v1">;
            await reweigh(d.docId, d.userId, { kind: "role", role: d.role }, m.seq);
            break;
          }
          case "doc.role-changed.v1": {
            const d = event.data as EventPayload<"doc.role-changed.v1">;
            await reweigh(d.docId, d.userId, { kind: "role", role: d.role }, m.seq);
            break;
          }
          case "doc.ownership-transferred.v1": {
            const d = event.data as EventPayload<"doc.ownership-transferred.v1">;
            await reweigh(d.docId, d.fromUserId, { kind: "role", role: "editor" }, m.seq);
            await reweigh(d.docId, d.toUserId, { kind: "role", role: "owner" }, m.seq);
            break;
          }
          case "doc.member-removed.v1": {
            // Removed from the document, yet maybe still reaching it through its workspace.
            const d = event.data as EventPayload<"doc.member-removed.v1">;
            await reweigh(d.docId, d.userId, { kind: "removed" }, m.seq);
            break;
          }
          case "doc.moved.v1": {
            // Everyone here on it: the workspace they reached it through may be another now.
            const d = event.data as EventPayload<"doc.moved.v1">;
            const room = await rooms.peek(d.docId);
            const users = new Set((room?.allPeers() ?? []).map((p) => p.userId));
            recent.record(d.docId, null, { kind: "unknown" });
            for (const userId of users) await reweigh(d.docId, userId, { kind: "unknown" }, m.seq);
            break;
          }
          case "workspace.member-added.v1":
          case "workspace.invitation-accepted.v1":
          case "workspace.role-changed.v1":
          case "workspace.member-removed.v1": {
            // The member's role changes on every document of the workspace: those open here are
            // weighed again (no document of a deleted workspace is open: it held none outside the trash).
            const d = event.data as EventPayload<"workspace.member-removed.v1">;
            recent.record(null, d.userId, { kind: "unknown" });
            for (const room of await rooms.loaded()) {
              if (room.peersOf(d.userId).length > 0) await reweigh(room.docId, d.userId, { kind: "unknown" }, m.seq);
            }
            break;
          }
          case "doc.trashed.v1": {
            const d = event.data as EventPayload<"doc.trashed.v1">;
            await apply(d.docId, null, { kind: "trashed" }, m.seq);
            break;
          }
          case "doc.renamed.v1": {
            // Not access, but heard on the same events: open pages show the new title at once.
            const d = event.data as EventPayload<"doc.renamed.v1">;
            await notices?.changed(d.docId, "renamed", m.seq);
            break;
          }
          case "comment.created.v1":
          case "comment.edited.v1":
          case "comment.deleted.v1":
          case "comment.resolved.v1":
          case "comment.reopened.v1":
            await notices?.changed((event.data as EventPayload<"comment.deleted.v1">).docId, "comments", m.seq);
            break;
          case "doc.untrashed.v1": {
            const d = event.data as EventPayload<"doc.untrashed.v1">;
            recent.record(d.docId, null, { kind: "untrashed" });
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
