import { describe, expect, it } from "vitest";
import { AppError, Roles, WorkspaceRoles, strongerRole, workspaceDocumentRole, type DomainEvent, type ErrorCode, type Role, type WorkspaceRole } from "@palimpsest/contracts";
import { decideWorkspace, documentGrants, emptyWorkspace, evolveWorkspace, type WorkspaceCommand, type WorkspaceEventData } from "../src/domain/workspace.ts";
import { decide, effectiveRole, type DocEventData } from "../src/domain/document.ts";
import { foldDocument, givenDocument } from "./given-document.ts";

/** The workspace aggregate as given(stored events) / when(command by actor) / then(new events, or a refusal). */

const WS = "ws-1";
const OWNER = "u-owner";
const ADMIN = "u-admin";
const MEMBER = "u-member";
const GUEST = "u-guest";
const AUDITOR = "u-auditor";
const STRANGER = "u-stranger";

const ev = {
  created: (): WorkspaceEventData => ({ type: "workspace.created.v1", data: { workspaceId: WS, name: "Design", ownerId: OWNER } }),
  added: (userId: string, role: WorkspaceRole): WorkspaceEventData => ({ type: "workspace.member-added.v1", data: { workspaceId: WS, userId, role } }),
  changed: (userId: string, role: WorkspaceRole, previousRole: WorkspaceRole): WorkspaceEventData => ({ type: "workspace.role-changed.v1", data: { workspaceId: WS, userId, role, previousRole } }),
  removed: (userId: string, reason: "removed" | "left"): WorkspaceEventData => ({ type: "workspace.member-removed.v1", data: { workspaceId: WS, userId, reason } }),
  deleted: (): WorkspaceEventData => ({ type: "workspace.deleted.v1", data: { workspaceId: WS } }),
};
const team = [ev.created(), ev.added(OWNER, "owner"), ev.added(ADMIN, "admin"), ev.added(MEMBER, "member"), ev.added(GUEST, "guest"), ev.added(AUDITOR, "auditor")];

const fold = (events: readonly WorkspaceEventData[]) =>
  events.reduce((s, e, i) => evolveWorkspace(s, { id: `e${i}`, type: e.type, at: "2026-01-01T00:00:00.000Z", data: e.data } as DomainEvent, i + 1), emptyWorkspace(WS));

function given(...events: WorkspaceEventData[]) {
  const state = fold(events);
  return {
    when(command: WorkspaceCommand, actor: string) {
      const run = () => decideWorkspace(state, command, actor);
      return {
        then: (...expected: WorkspaceEventData[]) => {
          expect(run()).toEqual(expected);
          fold([...events, ...expected]);
        },
        thenRefused: (code: ErrorCode) => {
          let thrown: unknown;
          try {
            run();
          } catch (err) {
            thrown = err;
          }
          expect(thrown, `expected ${code}`).toBeInstanceOf(AppError);
          expect((thrown as AppError).code).toBe(code);
        },
      };
    },
  };
}

describe("workspace aggregate: decide", () => {
  it("a new workspace has its maker as its owner", () => {
    given().when({ type: "create", name: "Design" }, OWNER).then(ev.created(), ev.added(OWNER, "owner"));
    given(ev.created()).when({ type: "create", name: "Again" }, OWNER).thenRefused("CONFLICT");
  });

  it("owners and admins rename; members, guests, auditors cannot; outsiders learn nothing", () => {
    for (const who of [OWNER, ADMIN]) given(...team).when({ type: "rename", name: "Studio" }, who).then({ type: "workspace.renamed.v1", data: { workspaceId: WS, name: "Studio" } });
    for (const who of [MEMBER, GUEST, AUDITOR]) given(...team).when({ type: "rename", name: "Studio" }, who).thenRefused("FORBIDDEN");
    given(...team).when({ type: "rename", name: "Studio" }, STRANGER).thenRefused("NOT_FOUND");
  });

  it("admins add and change members below owner; only owners make, unmake or remove owners", () => {
    given(...team).when({ type: "add-member", userId: STRANGER, role: "member" }, ADMIN).then(ev.added(STRANGER, "member"));
    given(...team).when({ type: "add-member", userId: STRANGER, role: "owner" }, ADMIN).thenRefused("FORBIDDEN");
    given(...team).when({ type: "add-member", userId: STRANGER, role: "owner" }, OWNER).then(ev.added(STRANGER, "owner"));
    given(...team).when({ type: "add-member", userId: STRANGER, role: "member" }, MEMBER).thenRefused("FORBIDDEN");
    given(...team).when({ type: "change-role", userId: MEMBER, role: "guest" }, ADMIN).then(ev.changed(MEMBER, "guest", "member"));
    given(...team).when({ type: "change-role", userId: OWNER, role: "member" }, ADMIN).thenRefused("FORBIDDEN");
    given(...team).when({ type: "remove-member", userId: OWNER }, ADMIN).thenRefused("FORBIDDEN");
    given(...team).when({ type: "remove-member", userId: MEMBER }, ADMIN).then(ev.removed(MEMBER, "removed"));
    // Adding someone who is there already changes their role.
    given(...team).when({ type: "add-member", userId: GUEST, role: "member" }, OWNER).then(ev.changed(GUEST, "member", "guest"));
    given(...team).when({ type: "add-member", userId: GUEST, role: "guest" }, OWNER).then();
  });

  it("anyone leaves, but a workspace keeps an owner", () => {
    for (const who of [ADMIN, MEMBER, GUEST, AUDITOR]) given(...team).when({ type: "remove-member", userId: who }, who).then(ev.removed(who, "left"));
    given(...team).when({ type: "remove-member", userId: OWNER }, OWNER).thenRefused("CONFLICT");
    given(...team).when({ type: "change-role", userId: OWNER, role: "admin" }, OWNER).thenRefused("CONFLICT");
    given(...team, ev.added(STRANGER, "owner")).when({ type: "remove-member", userId: OWNER }, OWNER).then(ev.removed(OWNER, "left"));
  });

  it("an invitation is accepted once, before it expires, by whoever holds its link; a member keeps the stronger role", () => {
    const hash = "a".repeat(64);
    const invited: WorkspaceEventData = { type: "workspace.invited.v1", data: { workspaceId: WS, email: "new@example.test", role: "member", tokenHash: hash, expiresAt: "2026-02-01T00:00:00.000Z" } };
    given(...team).when({ type: "invite", email: "new@example.test", role: "member", tokenHash: hash, expiresAt: "2026-02-01T00:00:00.000Z" }, ADMIN).then(invited);
    given(...team).when({ type: "invite", email: "new@example.test", role: "owner", tokenHash: hash, expiresAt: "2026-02-01T00:00:00.000Z" }, ADMIN).thenRefused("FORBIDDEN");
    given(...team).when({ type: "invite", email: "new@example.test", role: "guest", tokenHash: hash, expiresAt: "2026-02-01T00:00:00.000Z" }, MEMBER).thenRefused("FORBIDDEN");
    const accepted: WorkspaceEventData = { type: "workspace.invitation-accepted.v1", data: { workspaceId: WS, email: "new@example.test", userId: STRANGER, role: "member" } };
    given(...team, invited).when({ type: "accept-invitation", tokenHash: hash, userId: STRANGER, now: "2026-01-15T00:00:00.000Z" }, STRANGER).then(accepted);
    given(...team, invited, accepted).when({ type: "accept-invitation", tokenHash: hash, userId: STRANGER, now: "2026-01-15T00:00:00.000Z" }, STRANGER).thenRefused("NOT_FOUND");
    given(...team, invited).when({ type: "accept-invitation", tokenHash: hash, userId: STRANGER, now: "2026-02-02T00:00:00.000Z" }, STRANGER).thenRefused("NOT_FOUND");
    given(...team, invited).when({ type: "accept-invitation", tokenHash: "b".repeat(64), userId: STRANGER, now: "2026-01-15T00:00:00.000Z" }, STRANGER).thenRefused("NOT_FOUND");
    given(...team, invited).when({ type: "accept-invitation", tokenHash: hash, userId: ADMIN, now: "2026-01-15T00:00:00.000Z" }, ADMIN).then({ ...accepted, data: { ...accepted.data, userId: ADMIN, role: "admin" } } as WorkspaceEventData);
    // An auditor invited as a guest stays an auditor; a guest invited as an auditor becomes one.
    given(...team, invited).when({ type: "accept-invitation", tokenHash: hash, userId: AUDITOR, now: "2026-01-15T00:00:00.000Z" }, AUDITOR).then({ ...accepted, data: { ...accepted.data, userId: AUDITOR, role: "member" } } as WorkspaceEventData);
    const asGuest: WorkspaceEventData = { ...invited, data: { ...invited.data, role: "guest" } } as WorkspaceEventData;
    given(...team, asGuest).when({ type: "accept-invitation", tokenHash: hash, userId: AUDITOR, now: "2026-01-15T00:00:00.000Z" }, AUDITOR).then({ ...accepted, data: { ...accepted.data, userId: AUDITOR, role: "auditor" } } as WorkspaceEventData);
    // Added directly by the same address (they signed up meanwhile): the link is used up.
    given(...team, invited)
      .when({ type: "add-member", userId: STRANGER, role: "guest", email: "new@example.test" }, OWNER)
      .then(ev.added(STRANGER, "guest"), { type: "workspace.invitation-cancelled.v1", data: { workspaceId: WS, email: "new@example.test" } });
    given(...team, invited).when({ type: "cancel-invitation", email: "new@example.test" }, OWNER).then({ type: "workspace.invitation-cancelled.v1", data: { workspaceId: WS, email: "new@example.test" } });
  });

  it("only an owner deletes it, and only once it holds no documents outside the trash", () => {
    given(...team).when({ type: "delete", liveDocuments: 0 }, ADMIN).thenRefused("FORBIDDEN");
    given(...team).when({ type: "delete", liveDocuments: 2 }, OWNER).thenRefused("CONFLICT");
    given(...team).when({ type: "delete", liveDocuments: 0 }, OWNER).then(ev.deleted());
    given(...team, ev.deleted()).when({ type: "rename", name: "Gone" }, OWNER).thenRefused("NOT_FOUND");
  });
});

describe("what a workspace role gives on its documents", () => {
  const DOC = "doc-1";
  const inWorkspace: DocEventData[] = [
    { type: "doc.created.v1", data: { docId: DOC, title: "Plan", kind: "text", ownerId: MEMBER } },
    { type: "doc.moved.v1", data: { docId: DOC, from: null, to: WS } },
  ];
  const withGrants = (extra: DocEventData[] = [], workspace = fold(team)) => ({ ...foldDocument(DOC, [...inWorkspace, ...extra]), workspaceAccess: documentGrants(workspace) });

  it("owners and admins as owners, members as editors, auditors as auditors, guests and outsiders nothing", () => {
    const doc = withGrants();
    expect([OWNER, ADMIN, MEMBER, AUDITOR, GUEST, STRANGER].map((u) => effectiveRole(doc, u))).toEqual(["owner", "owner", "owner", "auditor", null, null]);
    // The maker (MEMBER) owns it; another member edits.
    const other = withGrants([], fold([...team, ev.added(STRANGER, "member")]));
    expect(effectiveRole(other, STRANGER)).toBe("editor");
  });

  it("a share adds to the workspace role and never takes from it", () => {
    const doc = withGrants([
      { type: "doc.shared.v1", data: { docId: DOC, userId: GUEST, role: "commenter" } },
      { type: "doc.shared.v1", data: { docId: DOC, userId: ADMIN, role: "viewer" } },
    ]);
    expect(effectiveRole(doc, GUEST)).toBe("commenter");
    expect(effectiveRole(doc, ADMIN)).toBe("owner");
  });

  it("leaving gives up one's own share only: someone who reaches it through the workspace leaves the workspace instead", () => {
    const doc = withGrants([{ type: "doc.shared.v1", data: { docId: DOC, userId: ADMIN, role: "editor" } }]);
    const leave = (who: string) => {
      try {
        return decide(doc, { type: "leave" }, who);
      } catch (err) {
        return (err as AppError).code;
      }
    };
    expect(leave(AUDITOR)).toBe("CONFLICT");
    // The admin (an owner here through the workspace) gives up the editor share, and stays an owner through the workspace.
    expect(leave(ADMIN)).toEqual([{ type: "doc.member-removed.v1", data: { docId: DOC, userId: ADMIN, reason: "left" } }]);
    expect(leave(MEMBER)).toBe("FORBIDDEN");
    expect(leave(STRANGER)).toBe("NOT_FOUND");
  });

  it("a document in a workspace is the workspace's: its maker's owner share counts only while they are in it", () => {
    expect(effectiveRole(withGrants(), MEMBER)).toBe("owner");
    const gone = withGrants([], fold([...team, ev.removed(MEMBER, "removed")]));
    expect(effectiveRole(gone, MEMBER)).toBeNull();
    // A guest who made it before being made a guest keeps it: still in the workspace.
    expect(effectiveRole(withGrants([], fold([...team, ev.changed(MEMBER, "guest", "member")])), MEMBER)).toBe("owner");
    // Once the workspace is deleted, its documents are their owners' again.
    expect(effectiveRole(withGrants([], fold([...team, ev.deleted()])), MEMBER)).toBe("owner");
  });

  it("a workspace's admin manages its documents but neither hands them over nor removes their owner", () => {
    const doc = withGrants([{ type: "doc.shared.v1", data: { docId: DOC, userId: GUEST, role: "viewer" } }]);
    const attempt = (command: Parameters<typeof decide>[1], who: string) => {
      try {
        return decide(doc, command, who);
      } catch (err) {
        return (err as AppError).code;
      }
    };
    expect(attempt({ type: "transfer-ownership", toUserId: AUDITOR }, ADMIN)).toBe("FORBIDDEN");
    expect(attempt({ type: "remove-member", userId: MEMBER }, ADMIN)).toBe("FORBIDDEN");
    expect(attempt({ type: "remove-member", userId: GUEST }, ADMIN)).toEqual([{ type: "doc.member-removed.v1", data: { docId: DOC, userId: GUEST, reason: "removed" } }]);
    // The owner hands it to someone who reaches it through the workspace.
    expect(attempt({ type: "transfer-ownership", toUserId: AUDITOR }, MEMBER)).toEqual([{ type: "doc.ownership-transferred.v1", data: { docId: DOC, fromUserId: MEMBER, toUserId: AUDITOR } }]);
  });

  it("a deleted workspace gives nothing", () => {
    expect(documentGrants(fold([...team, ev.deleted()]))).toBeNull();
  });

  it("strongerRole and the mapping are total and agree with the permissions: the stronger role can do all the weaker one can, but commenting for an auditor", () => {
    for (const a of Roles) for (const b of Roles) expect(strongerRole(a, b)).toBe(strongerRole(b, a));
    for (const r of WorkspaceRoles) expect(workspaceDocumentRole(r) === null || (Roles as readonly Role[]).includes(workspaceDocumentRole(r)!)).toBe(true);
  });

  it("a workspace member makes documents there and moves theirs in; a guest or an auditor does not; an outsider learns nothing", () => {
    const givenDoc = givenDocument(DOC);
    givenDoc().when({ type: "create", title: "Plan", kind: "text", workspace: { id: WS, role: "member" } }, MEMBER).then(...inWorkspace);
    givenDoc().when({ type: "create", title: "Plan", kind: "text", workspace: { id: WS, role: "guest" } }, GUEST).thenRefused("FORBIDDEN");
    givenDoc().when({ type: "create", title: "Plan", kind: "text", workspace: { id: WS, role: null } }, STRANGER).thenRefused("NOT_FOUND");
    const own: DocEventData = { type: "doc.created.v1", data: { docId: DOC, title: "Plan", kind: "text", ownerId: MEMBER } };
    givenDoc(own).when({ type: "move", to: { id: WS, role: "member" }, fromRole: null }, MEMBER).then({ type: "doc.moved.v1", data: { docId: DOC, from: null, to: WS } });
    givenDoc(own).when({ type: "move", to: { id: WS, role: "auditor" }, fromRole: null }, MEMBER).thenRefused("FORBIDDEN");
    // Out of a workspace: its owners and admins only, even for the document's maker.
    givenDoc(...inWorkspace).when({ type: "move", to: null, fromRole: "member" }, MEMBER).thenRefused("FORBIDDEN");
    givenDoc(...inWorkspace).when({ type: "move", to: null, fromRole: "admin" }, MEMBER).then({ type: "doc.moved.v1", data: { docId: DOC, from: WS, to: null } });
    givenDoc(...inWorkspace).when({ type: "move", to: { id: WS, role: "admin" }, fromRole: "admin" }, MEMBER).then();
  });
});
