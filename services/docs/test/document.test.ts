import { describe, expect, it } from "vitest";
import type { DocKind, DomainEvent, Role } from "@palimpsest/contracts";
import { emptyDoc, evolve, type DocCommand, type DocEventData, type DocState } from "../src/domain/document.ts";
import { foldDocument, givenDocument, stored, type Given } from "./given-document.ts";

/**
 * The document aggregate, as given(stored events) / when(command by actor) / then(new events, or
 * a refusal with its stable code). Commands are checked only through `decide`, so the tests keep
 * holding wherever the permission table ends up living.
 */

const DOC = "doc-1";
const OWNER = "u-owner";
const EDITOR = "u-editor";
const COMMENTER = "u-commenter";
const VIEWER = "u-viewer";
const STRANGER = "u-stranger";
const NEWCOMER = "u-new";

const ev = {
  created: (ownerId = OWNER, title = "Plan", kind: DocKind = "text"): DocEventData => ({ type: "doc.created.v1", data: { docId: DOC, title, kind, ownerId } }),
  renamed: (title: string): DocEventData => ({ type: "doc.renamed.v1", data: { docId: DOC, title } }),
  trashed: (): DocEventData => ({ type: "doc.trashed.v1", data: { docId: DOC } }),
  untrashed: (): DocEventData => ({ type: "doc.untrashed.v1", data: { docId: DOC } }),
  purged: (): DocEventData => ({ type: "doc.purged.v1", data: { docId: DOC } }),
  shared: (userId: string, role: Role, invitedEmail?: string): DocEventData => ({
    type: "doc.shared.v1",
    data: { docId: DOC, userId, role, ...(invitedEmail ? { invitedEmail } : {}) },
  }),
  invited: (email: string, role: Role): DocEventData => ({ type: "doc.invited.v1", data: { docId: DOC, email, role } }),
  invitedWithLink: (email: string, role: Role, tokenHash: string, expiresAt: string): DocEventData => ({
    type: "doc.invited.v2",
    data: { docId: DOC, email, role, tokenHash, expiresAt },
  }),
  invitationCancelled: (email: string): DocEventData => ({ type: "doc.invitation-cancelled.v1", data: { docId: DOC, email } }),
  roleChanged: (userId: string, role: Role, previousRole: Role): DocEventData => ({ type: "doc.role-changed.v1", data: { docId: DOC, userId, role, previousRole } }),
  memberRemoved: (userId: string, reason: "removed" | "left"): DocEventData => ({ type: "doc.member-removed.v1", data: { docId: DOC, userId, reason } }),
  ownershipTransferred: (fromUserId: string, toUserId: string): DocEventData => ({ type: "doc.ownership-transferred.v1", data: { docId: DOC, fromUserId, toUserId } }),
  versionNamed: (name: string, seq: number): DocEventData => ({ type: "doc.version-named.v1", data: { docId: DOC, name, seq } }),
};

/** A document with one member of every role, as most cases start from. */
const team = [ev.created(), ev.shared(EDITOR, "editor"), ev.shared(COMMENTER, "commenter"), ev.shared(VIEWER, "viewer")];

const fold = (events: readonly Given[], seqs?: readonly number[]): DocState => foldDocument(DOC, events, seqs);
const given = givenDocument(DOC);

describe("document aggregate: decide", () => {
  describe("create", () => {
    it("makes the actor the owner", () => {
      given().when({ type: "create", title: "Plan", kind: "board" }, OWNER).then(ev.created(OWNER, "Plan", "board"));
    });
    it("refuses an id in use", () => {
      given(ev.created()).when({ type: "create", title: "Again", kind: "text" }, EDITOR).thenRefused("CONFLICT");
    });
    it("refuses the id of a purged document: ids are never reused", () => {
      given(ev.created(), ev.trashed(), ev.purged()).when({ type: "create", title: "Again", kind: "text" }, OWNER).thenRefused("CONFLICT");
    });
  });

  describe("rename", () => {
    it("is allowed to owners and editors", () => {
      given(...team).when({ type: "rename", title: "Roadmap" }, OWNER).then(ev.renamed("Roadmap"));
      given(...team).when({ type: "rename", title: "Roadmap" }, EDITOR).then(ev.renamed("Roadmap"));
    });
    it("stores nothing for the current title", () => {
      given(...team, ev.renamed("Roadmap")).when({ type: "rename", title: "Roadmap" }, EDITOR).thenNothing();
    });
    it("is forbidden to commenters and viewers", () => {
      given(...team).when({ type: "rename", title: "X" }, COMMENTER).thenRefused("FORBIDDEN");
      given(...team).when({ type: "rename", title: "X" }, VIEWER).thenRefused("FORBIDDEN");
    });
    it("answers NOT_FOUND to strangers, for missing documents and for documents in the trash", () => {
      given(...team).when({ type: "rename", title: "X" }, STRANGER).thenRefused("NOT_FOUND");
      given().when({ type: "rename", title: "X" }, OWNER).thenRefused("NOT_FOUND");
      given(...team, ev.trashed()).when({ type: "rename", title: "X" }, OWNER).thenRefused("NOT_FOUND");
    });
  });

  describe("trash and untrash", () => {
    it("the owner moves the document to the trash and back", () => {
      given(...team).when({ type: "trash" }, OWNER).then(ev.trashed());
      given(...team, ev.trashed()).when({ type: "untrash" }, OWNER).then(ev.untrashed());
    });
    it("stores nothing when the document is already where it is asked to be", () => {
      given(...team, ev.trashed()).when({ type: "trash" }, OWNER).thenNothing();
      given(...team).when({ type: "untrash" }, OWNER).thenNothing();
    });
    it("is forbidden to everyone but the owner, in the trash too", () => {
      given(...team).when({ type: "trash" }, EDITOR).thenRefused("FORBIDDEN");
      given(...team, ev.trashed()).when({ type: "untrash" }, EDITOR).thenRefused("FORBIDDEN");
      given(...team).when({ type: "trash" }, STRANGER).thenRefused("NOT_FOUND");
    });
  });

  describe("purge", () => {
    it("goes through the trash in the same command when the document is still in use", () => {
      given(...team).when({ type: "purge" }, OWNER).then(ev.trashed(), ev.purged());
    });
    it("only purges a document already in the trash", () => {
      given(...team, ev.trashed()).when({ type: "purge" }, OWNER).then(ev.purged());
    });
    it("is forbidden to everyone but the owner", () => {
      given(...team, ev.trashed()).when({ type: "purge" }, EDITOR).thenRefused("FORBIDDEN");
    });
    it("leaves nothing to act on afterwards", () => {
      given(...team, ev.trashed(), ev.purged()).when({ type: "purge" }, OWNER).thenRefused("NOT_FOUND");
      given(...team, ev.trashed(), ev.purged()).when({ type: "untrash" }, OWNER).thenRefused("NOT_FOUND");
    });
  });

  describe("share-with-user", () => {
    it("adds a member, below owner, for owners and editors", () => {
      given(...team).when({ type: "share-with-user", userId: NEWCOMER, role: "viewer" }, OWNER).then(ev.shared(NEWCOMER, "viewer"));
      given(...team).when({ type: "share-with-user", userId: NEWCOMER, role: "editor" }, EDITOR).then(ev.shared(NEWCOMER, "editor"));
    });
    it("keeps the email the share was made to", () => {
      given(...team)
        .when({ type: "share-with-user", userId: NEWCOMER, role: "commenter", invitedEmail: "new@example.com" }, OWNER)
        .then(ev.shared(NEWCOMER, "commenter", "new@example.com"));
    });
    it("refuses to share as owner", () => {
      given(...team).when({ type: "share-with-user", userId: NEWCOMER, role: "owner" }, OWNER).thenRefused("VALIDATION_FAILED");
      // Sharing with yourself is not a role change, whoever you are.
      given(...team).when({ type: "share-with-user", userId: EDITOR, role: "viewer" }, EDITOR).thenRefused("VALIDATION_FAILED");
    });
    it("stores nothing when the member already has that role", () => {
      given(...team).when({ type: "share-with-user", userId: VIEWER, role: "viewer" }, EDITOR).thenNothing();
    });
    it("is a role change when the user is already a member, which only the owner may make", () => {
      given(...team).when({ type: "share-with-user", userId: VIEWER, role: "editor" }, OWNER).then(ev.roleChanged(VIEWER, "editor", "viewer"));
      given(...team).when({ type: "share-with-user", userId: VIEWER, role: "editor" }, EDITOR).thenRefused("FORBIDDEN");
    });
    it("never changes the owner's role: only the owner manages members, and to them it is their own address", () => {
      given(...team).when({ type: "share-with-user", userId: OWNER, role: "editor" }, OWNER).thenRefused("VALIDATION_FAILED");
      given(...team).when({ type: "share-with-user", userId: OWNER, role: "viewer" }, EDITOR).thenRefused("FORBIDDEN");
    });
    it("is forbidden to commenters and viewers, and hidden from strangers", () => {
      given(...team).when({ type: "share-with-user", userId: NEWCOMER, role: "viewer" }, COMMENTER).thenRefused("FORBIDDEN");
      given(...team).when({ type: "share-with-user", userId: NEWCOMER, role: "viewer" }, VIEWER).thenRefused("FORBIDDEN");
      given(...team).when({ type: "share-with-user", userId: NEWCOMER, role: "viewer" }, STRANGER).thenRefused("NOT_FOUND");
    });
  });

  describe("invite", () => {
    const link = { tokenHash: "a".repeat(64), expiresAt: "2030-01-01T00:00:00.000Z" };
    it("records a pending invitation with its link's token hash, for owners and editors", () => {
      given(...team).when({ type: "invite", email: "new@example.com", role: "editor", ...link }, EDITOR).then(ev.invitedWithLink("new@example.com", "editor", link.tokenHash, link.expiresAt));
    });
    it("inviting again stores a new invitation, whose link replaces the earlier one", () => {
      const again = { tokenHash: "b".repeat(64), expiresAt: link.expiresAt };
      given(...team, ev.invitedWithLink("new@example.com", "viewer", link.tokenHash, link.expiresAt))
        .when({ type: "invite", email: "new@example.com", role: "viewer", ...again }, OWNER)
        .then(ev.invitedWithLink("new@example.com", "viewer", again.tokenHash, again.expiresAt));
    });
    it("refuses to invite as owner, and to commenters and viewers", () => {
      given(...team).when({ type: "invite", email: "new@example.com", role: "owner", ...link }, OWNER).thenRefused("VALIDATION_FAILED");
      given(...team).when({ type: "invite", email: "new@example.com", role: "viewer", ...link }, VIEWER).thenRefused("FORBIDDEN");
      given(...team).when({ type: "invite", email: "new@example.com", role: "viewer", ...link }, COMMENTER).thenRefused("FORBIDDEN");
    });
  });

  describe("accept-invitation", () => {
    const hash = "c".repeat(64);
    const expiresAt = "2030-01-01T00:00:00.000Z";
    const before = "2029-12-31T23:59:59.000Z";
    const invited = [...team, ev.invitedWithLink("new@example.com", "commenter", hash, expiresAt)];
    const accept = (userId: string, tokenHash = hash, now = before): DocCommand => ({ type: "accept-invitation", tokenHash, userId, now });
    it("makes whoever holds the link a member with the invited role", () => {
      given(...invited).when(accept(NEWCOMER), NEWCOMER).then(ev.shared(NEWCOMER, "commenter", "new@example.com"));
    });
    it("uses up the link of someone who is already a member, who keeps their role", () => {
      given(...invited).when(accept(VIEWER), VIEWER).then(ev.invitationCancelled("new@example.com"));
    });
    it("refuses a wrong, used, cancelled or replaced link", () => {
      given(...invited).when(accept(NEWCOMER, "d".repeat(64)), NEWCOMER).thenRefused("NOT_FOUND");
      given(...invited, ev.shared(NEWCOMER, "commenter", "new@example.com")).when(accept(STRANGER), STRANGER).thenRefused("NOT_FOUND");
      given(...invited, ev.invitationCancelled("new@example.com")).when(accept(NEWCOMER), NEWCOMER).thenRefused("NOT_FOUND");
      given(...invited, ev.invitedWithLink("new@example.com", "commenter", "e".repeat(64), expiresAt)).when(accept(NEWCOMER), NEWCOMER).thenRefused("NOT_FOUND");
    });
    it("refuses an expired link, and invitations from before links", () => {
      given(...invited).when(accept(NEWCOMER, hash, expiresAt), NEWCOMER).thenRefused("NOT_FOUND");
      given(...team, ev.invited("new@example.com", "editor")).when(accept(NEWCOMER), NEWCOMER).thenRefused("NOT_FOUND");
    });
    it("refuses without the document, or while it is in the trash", () => {
      given().when(accept(NEWCOMER), NEWCOMER).thenRefused("NOT_FOUND");
      given(...invited, ev.purged()).when(accept(NEWCOMER), NEWCOMER).thenRefused("NOT_FOUND");
      given(...invited, ev.trashed()).when(accept(NEWCOMER), NEWCOMER).thenRefused("NOT_FOUND");
    });
  });

  describe("cancel-invitation", () => {
    it("cancels a pending invitation, for owners and editors", () => {
      given(...team, ev.invited("new@example.com", "viewer"))
        .when({ type: "cancel-invitation", email: "new@example.com" }, EDITOR)
        .then(ev.invitationCancelled("new@example.com"));
    });
    it("answers NOT_FOUND when there is none", () => {
      given(...team).when({ type: "cancel-invitation", email: "new@example.com" }, OWNER).thenRefused("NOT_FOUND");
    });
    it("is forbidden to commenters and viewers", () => {
      given(...team, ev.invited("new@example.com", "viewer")).when({ type: "cancel-invitation", email: "new@example.com" }, COMMENTER).thenRefused("FORBIDDEN");
    });
  });

  describe("change-role", () => {
    it("the owner changes a member's role, naming the previous one", () => {
      given(...team).when({ type: "change-role", userId: EDITOR, role: "viewer" }, OWNER).then(ev.roleChanged(EDITOR, "viewer", "editor"));
    });
    it("stores nothing for the member's current role", () => {
      given(...team).when({ type: "change-role", userId: EDITOR, role: "editor" }, OWNER).thenNothing();
    });
    it("is forbidden to editors", () => {
      given(...team).when({ type: "change-role", userId: VIEWER, role: "commenter" }, EDITOR).thenRefused("FORBIDDEN");
    });
    it("refuses non-members, making someone owner, and changing the owner", () => {
      given(...team).when({ type: "change-role", userId: NEWCOMER, role: "viewer" }, OWNER).thenRefused("NOT_FOUND");
      given(...team).when({ type: "change-role", userId: EDITOR, role: "owner" }, OWNER).thenRefused("VALIDATION_FAILED");
      given(...team).when({ type: "change-role", userId: OWNER, role: "editor" }, OWNER).thenRefused("FORBIDDEN");
    });
  });

  describe("remove-member", () => {
    it("the owner removes a member", () => {
      given(...team).when({ type: "remove-member", userId: EDITOR }, OWNER).then(ev.memberRemoved(EDITOR, "removed"));
    });
    it("removing oneself is leaving", () => {
      given(...team).when({ type: "remove-member", userId: VIEWER }, VIEWER).then(ev.memberRemoved(VIEWER, "left"));
      given(...team).when({ type: "remove-member", userId: OWNER }, OWNER).thenRefused("FORBIDDEN");
    });
    it("is forbidden to editors, and refuses non-members", () => {
      given(...team).when({ type: "remove-member", userId: VIEWER }, EDITOR).thenRefused("FORBIDDEN");
      given(...team).when({ type: "remove-member", userId: NEWCOMER }, OWNER).thenRefused("NOT_FOUND");
    });
  });

  describe("leave", () => {
    it("any member but the owner may leave, in the trash too", () => {
      given(...team).when({ type: "leave" }, COMMENTER).then(ev.memberRemoved(COMMENTER, "left"));
      given(...team, ev.trashed()).when({ type: "leave" }, EDITOR).then(ev.memberRemoved(EDITOR, "left"));
    });
    it("the owner must transfer ownership first; strangers learn nothing", () => {
      given(...team).when({ type: "leave" }, OWNER).thenRefused("FORBIDDEN");
      given(...team).when({ type: "leave" }, STRANGER).thenRefused("NOT_FOUND");
    });
  });

  describe("transfer-ownership", () => {
    it("the owner hands the document to a member", () => {
      given(...team).when({ type: "transfer-ownership", toUserId: VIEWER }, OWNER).then(ev.ownershipTransferred(OWNER, VIEWER));
    });
    it("stores nothing when handing it to oneself", () => {
      given(...team).when({ type: "transfer-ownership", toUserId: OWNER }, OWNER).thenNothing();
    });
    it("refuses a non-member and anyone but the owner", () => {
      given(...team).when({ type: "transfer-ownership", toUserId: NEWCOMER }, OWNER).thenRefused("VALIDATION_FAILED");
      given(...team).when({ type: "transfer-ownership", toUserId: VIEWER }, EDITOR).thenRefused("FORBIDDEN");
    });
  });

  describe("name-version", () => {
    it("owners and editors name a version", () => {
      given(...team).when({ type: "name-version", name: "v1", seq: 42 }, EDITOR).then(ev.versionNamed("v1", 42));
    });
    it("is forbidden to commenters and viewers, and hidden while in the trash", () => {
      given(...team).when({ type: "name-version", name: "v1", seq: 1 }, COMMENTER).thenRefused("FORBIDDEN");
      given(...team, ev.trashed()).when({ type: "name-version", name: "v1", seq: 1 }, OWNER).thenRefused("NOT_FOUND");
    });
  });
});

describe("document aggregate: evolve", () => {
  const members = (s: DocState) => Object.fromEntries(s.members);
  const invitations = (s: DocState) => Object.fromEntries([...s.invitations].map(([email, inv]) => [email, inv.role]));

  it("starts from nothing", () => {
    expect(emptyDoc(DOC)).toMatchObject({ exists: false, docId: DOC, trashed: false, purged: false, version: 0 });
  });

  it("doc.created: the document exists with its owner as only member", () => {
    const s = fold([ev.created(OWNER, "Plan", "board")]);
    expect(s).toMatchObject({ exists: true, title: "Plan", kind: "board", ownerId: OWNER, version: 1 });
    expect(members(s)).toEqual({ [OWNER]: "owner" });
  });

  it("doc.renamed, doc.trashed, doc.untrashed", () => {
    expect(fold([ev.created(), ev.renamed("Roadmap")]).title).toBe("Roadmap");
    expect(fold([ev.created(), ev.trashed()]).trashed).toBe(true);
    expect(fold([ev.created(), ev.trashed(), ev.untrashed()]).trashed).toBe(false);
  });

  it("doc.purged: gone for good, with its members and invitations", () => {
    const s = fold([...team, ev.invited("new@example.com", "viewer"), ev.trashed(), ev.purged()]);
    expect(s).toMatchObject({ exists: false, purged: true, trashed: true });
    expect(members(s)).toEqual({});
    expect(invitations(s)).toEqual({});
  });

  it("doc.shared adds a member and settles the invitation it came from", () => {
    const s = fold([ev.created(), ev.invited("new@example.com", "viewer"), ev.invited("other@example.com", "editor"), ev.shared(NEWCOMER, "viewer", "new@example.com")]);
    expect(members(s)).toEqual({ [OWNER]: "owner", [NEWCOMER]: "viewer" });
    expect(invitations(s)).toEqual({ "other@example.com": "editor" });
  });

  it("doc.invited and doc.invitation-cancelled", () => {
    expect(invitations(fold([ev.created(), ev.invited("a@example.com", "viewer"), ev.invited("a@example.com", "editor")]))).toEqual({ "a@example.com": "editor" });
    expect(invitations(fold([ev.created(), ev.invited("a@example.com", "viewer"), ev.invitationCancelled("a@example.com")]))).toEqual({});
  });

  it("doc.role-changed and doc.member-removed", () => {
    expect(fold([...team, ev.roleChanged(VIEWER, "editor", "viewer")]).members.get(VIEWER)).toBe("editor");
    expect(fold([...team, ev.memberRemoved(VIEWER, "removed")]).members.has(VIEWER)).toBe(false);
    expect(fold([...team, ev.memberRemoved(COMMENTER, "left")]).members.has(COMMENTER)).toBe(false);
  });

  it("doc.member-removed keeps who left among the former members, until they are shared with again", () => {
    const removed = fold([...team, ev.memberRemoved(VIEWER, "removed"), ev.memberRemoved(COMMENTER, "left")]);
    expect([...removed.formerMembers].sort()).toEqual([VIEWER, COMMENTER].sort());
    const back = fold([...team, ev.memberRemoved(VIEWER, "removed"), ev.shared(VIEWER, "editor")]);
    expect([...back.formerMembers]).toEqual([]);
    expect(back.members.get(VIEWER)).toBe("editor");
  });

  it("doc.ownership-transferred: the new owner owns, the previous one stays as editor", () => {
    const s = fold([...team, ev.ownershipTransferred(OWNER, VIEWER)]);
    expect(s.ownerId).toBe(VIEWER);
    expect(members(s)).toMatchObject({ [OWNER]: "editor", [VIEWER]: "owner" });
  });

  it("doc.version-named, and events the aggregate does not track, only move the version", () => {
    const before = fold(team);
    const named = evolve(before, stored(ev.versionNamed("v1", 3), 9), 9);
    expect({ ...named, version: before.version }).toEqual(before);
    expect(named.version).toBe(9);
    const file = { id: "f", type: "file.deleted.v1", at: "2026-01-01T00:00:00.000Z", data: { docId: DOC, fileId: "f1", reason: "deleted" } } as DomainEvent;
    expect(evolve(before, file, 10)).toEqual({ ...before, version: 10 });
  });

  it("the version is the stream sequence of the last event, not a count of events", () => {
    expect(fold([ev.created(), ev.renamed("A"), ev.renamed("B")], [3, 17, 40]).version).toBe(40);
  });

  it("never changes a state it was given: a command's decision is checked against it while the next one is built", () => {
    const before = fold(team);
    const snapshot = { ...before, members: members(before), invitations: invitations(before) };
    for (const e of [ev.shared(NEWCOMER, "viewer"), ev.invited("x@example.com", "viewer"), ev.memberRemoved(VIEWER, "left"), ev.ownershipTransferred(OWNER, EDITOR), ev.purged()]) {
      evolve(before, stored(e, 99), 99);
    }
    expect({ ...before, members: members(before), invitations: invitations(before) }).toEqual(snapshot);
  });
});
