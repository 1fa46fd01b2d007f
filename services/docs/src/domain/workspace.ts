import type { WorkspaceAccess } from "./document.ts";
import { AppError, canInWorkspace, workspaceDocumentRole, type Role, type DomainEvent, type EventPayload, type WorkspacePermission, type WorkspaceRole } from "@palimpsest/contracts";

/**
 * The workspace aggregate: its name, whether it was deleted, and its members with their roles.
 * Pure: `decideWorkspace` turns a command on the current state into events (or refuses it),
 * `evolveWorkspace` folds an event into the state.
 */
export interface WorkspaceState {
  exists: boolean;
  deleted: boolean;
  workspaceId: string;
  name: string;
  members: ReadonlyMap<string, WorkspaceRole>;
  /** Pending invitations by email. */
  invitations: ReadonlyMap<string, WorkspaceInvitation>;
  /** Stream sequence of the last event: the version commands are checked against. */
  version: number;
}

export interface WorkspaceInvitation {
  role: WorkspaceRole;
  tokenHash: string;
  expiresAt: string;
}

export const emptyWorkspace = (workspaceId: string): WorkspaceState => ({
  exists: false,
  deleted: false,
  workspaceId,
  name: "",
  members: new Map(),
  invitations: new Map(),
  version: 0,
});

export type WorkspaceCommand =
  | { type: "create"; name: string }
  | { type: "rename"; name: string }
  /** `liveDocuments`: how many of its documents are not in the trash (read before deciding). */
  | { type: "delete"; liveDocuments: number }
  /** `email`: the address they were added by, whose pending invitation (if any) is then used up. */
  | { type: "add-member"; userId: string; role: WorkspaceRole; email?: string }
  | { type: "change-role"; userId: string; role: WorkspaceRole }
  /** The caller's own id: leaving. */
  | { type: "remove-member"; userId: string }
  | { type: "invite"; email: string; role: WorkspaceRole; tokenHash: string; expiresAt: string }
  | { type: "cancel-invitation"; email: string }
  /** `now` is the time the link is presented, passed in so deciding stays pure. */
  | { type: "accept-invitation"; tokenHash: string; userId: string; now: string };

export type WorkspaceEventType =
  | "workspace.created.v1"
  | "workspace.renamed.v1"
  | "workspace.deleted.v1"
  | "workspace.member-added.v1"
  | "workspace.role-changed.v1"
  | "workspace.member-removed.v1"
  | "workspace.invited.v1"
  | "workspace.invitation-cancelled.v1"
  | "workspace.invitation-accepted.v1";

export type WorkspaceEventData = {
  [K in WorkspaceEventType]: { type: K; data: EventPayload<K> };
}[WorkspaceEventType];

function notFound(): AppError {
  return new AppError("NOT_FOUND", "workspace not found");
}

/** The caller's role in the workspace, or NOT_FOUND for anyone outside it (who learns nothing of it). */
export function workspaceRoleOf(state: WorkspaceState, userId: string): WorkspaceRole {
  const role = state.members.get(userId);
  if (!state.exists || state.deleted || !role) throw notFound();
  return role;
}

/** The caller's role in a workspace that exists, or null. */
export function workspaceRoleOrNull(state: WorkspaceState, userId: string): WorkspaceRole | null {
  return state.exists && !state.deleted ? (state.members.get(userId) ?? null) : null;
}

/**
 * Who is in the workspace and the role each has on its documents through their workspace role;
 * null once it is deleted (its documents are their owners' again) or before it exists.
 */
export function documentGrants(state: WorkspaceState): WorkspaceAccess | null {
  if (!state.exists || state.deleted) return null;
  const grants = new Map<string, Role>();
  for (const [userId, role] of state.members) {
    const granted = workspaceDocumentRole(role);
    if (granted) grants.set(userId, granted);
  }
  return { members: new Set(state.members.keys()), grants };
}

function requireIn(state: WorkspaceState, actorId: string, permission: WorkspacePermission): WorkspaceRole {
  const role = workspaceRoleOf(state, actorId);
  if (!canInWorkspace(role, permission)) throw new AppError("FORBIDDEN", `a workspace ${role} cannot do this`);
  return role;
}

/**
 * Workspace roles by what they may do, for keeping the stronger of two: an auditor reads every
 * document with its history, a guest only what is shared with them.
 */
const WORKSPACE_ROLE_STRENGTH: Record<WorkspaceRole, number> = { owner: 5, admin: 4, member: 3, auditor: 2, guest: 1 };

const owners = (state: WorkspaceState): number => [...state.members.values()].filter((r) => r === "owner").length;

/**
 * Owners and admins manage members; only an owner makes, unmakes or removes an owner. A
 * workspace always keeps one owner: the last cannot leave, be removed or step down.
 */
export function decideWorkspace(state: WorkspaceState, command: WorkspaceCommand, actorId: string): WorkspaceEventData[] {
  const workspaceId = state.workspaceId;
  switch (command.type) {
    case "create":
      if (state.exists) throw new AppError("CONFLICT", "workspace already exists");
      return [
        { type: "workspace.created.v1", data: { workspaceId, name: command.name, ownerId: actorId } },
        { type: "workspace.member-added.v1", data: { workspaceId, userId: actorId, role: "owner" } },
      ];
    case "rename":
      requireIn(state, actorId, "rename");
      return command.name === state.name ? [] : [{ type: "workspace.renamed.v1", data: { workspaceId, name: command.name } }];
    case "delete":
      requireIn(state, actorId, "own");
      if (command.liveDocuments > 0) {
        throw new AppError("CONFLICT", `the workspace still holds ${command.liveDocuments} document${command.liveDocuments === 1 ? "" : "s"}: move them out or to the trash first`);
      }
      return [{ type: "workspace.deleted.v1", data: { workspaceId } }];
    case "add-member": {
      const acting = requireIn(state, actorId, "manageMembers");
      if (command.role === "owner" && acting !== "owner") throw new AppError("FORBIDDEN", "only an owner can make someone an owner");
      // A link still out for the same address would let its holder in again after a removal.
      const spent: WorkspaceEventData[] = command.email && state.invitations.has(command.email) ? [{ type: "workspace.invitation-cancelled.v1", data: { workspaceId, email: command.email } }] : [];
      const current = state.members.get(command.userId);
      if (current === command.role) return spent;
      if (current !== undefined) return [...decideWorkspace(state, { type: "change-role", userId: command.userId, role: command.role }, actorId), ...spent];
      return [{ type: "workspace.member-added.v1", data: { workspaceId, userId: command.userId, role: command.role } }, ...spent];
    }
    case "change-role": {
      const acting = requireIn(state, actorId, "manageMembers");
      const current = state.members.get(command.userId);
      if (!current) throw new AppError("NOT_FOUND", "not a member of this workspace");
      if (current === command.role) return [];
      if ((current === "owner" || command.role === "owner") && acting !== "owner") throw new AppError("FORBIDDEN", "only an owner can make or unmake an owner");
      if (current === "owner" && owners(state) === 1) throw new AppError("CONFLICT", "a workspace needs an owner: make someone else owner first");
      return [{ type: "workspace.role-changed.v1", data: { workspaceId, userId: command.userId, role: command.role, previousRole: current } }];
    }
    case "invite": {
      const acting = requireIn(state, actorId, "manageMembers");
      if (command.role === "owner" && acting !== "owner") throw new AppError("FORBIDDEN", "only an owner can make someone an owner");
      return [{ type: "workspace.invited.v1", data: { workspaceId, email: command.email, role: command.role, tokenHash: command.tokenHash, expiresAt: command.expiresAt } }];
    }
    case "cancel-invitation":
      requireIn(state, actorId, "manageMembers");
      if (!state.invitations.has(command.email)) throw new AppError("NOT_FOUND", "no pending invitation for that email");
      return [{ type: "workspace.invitation-cancelled.v1", data: { workspaceId, email: command.email } }];
    case "accept-invitation": {
      const found = [...state.invitations].find(([, i]) => i.tokenHash === command.tokenHash);
      const gone = new AppError("NOT_FOUND", "this invitation link is no longer valid: it was used, cancelled or replaced by a newer one");
      if (!found || !state.exists || state.deleted) throw gone;
      const [email, invitation] = found;
      if (Date.parse(invitation.expiresAt) <= Date.parse(command.now)) throw new AppError("NOT_FOUND", "this invitation link has expired: ask for a new one");
      // Someone already in keeps the stronger of their role and the invited one's place in the list.
      const current = state.members.get(command.userId);
      const role = current && WORKSPACE_ROLE_STRENGTH[current] >= WORKSPACE_ROLE_STRENGTH[invitation.role] ? current : invitation.role;
      return [{ type: "workspace.invitation-accepted.v1", data: { workspaceId, email, userId: command.userId, role } }];
    }
    case "remove-member": {
      const leaving = command.userId === actorId;
      const acting = leaving ? workspaceRoleOf(state, actorId) : requireIn(state, actorId, "manageMembers");
      const current = state.members.get(command.userId);
      if (!current) throw new AppError("NOT_FOUND", "not a member of this workspace");
      if (current === "owner" && !leaving && acting !== "owner") throw new AppError("FORBIDDEN", "only an owner can remove an owner");
      if (current === "owner" && owners(state) === 1) throw new AppError("CONFLICT", "a workspace needs an owner: make someone else owner first");
      return [{ type: "workspace.member-removed.v1", data: { workspaceId, userId: command.userId, reason: leaving ? "left" : "removed" } }];
    }
  }
}

export function evolveWorkspace(state: WorkspaceState, event: DomainEvent, seq: number): WorkspaceState {
  const next = (patch: Partial<WorkspaceState>): WorkspaceState => ({ ...state, ...patch, version: seq });
  const withMembers = (f: (m: Map<string, WorkspaceRole>) => void): ReadonlyMap<string, WorkspaceRole> => {
    const m = new Map(state.members);
    f(m);
    return m;
  };
  const withInvitations = (f: (m: Map<string, WorkspaceInvitation>) => void): ReadonlyMap<string, WorkspaceInvitation> => {
    const m = new Map(state.invitations);
    f(m);
    return m;
  };
  switch (event.type) {
    case "workspace.created.v1":
      return next({ exists: true, name: (event.data as EventPayload<"workspace.created.v1">).name });
    case "workspace.renamed.v1":
      return next({ name: (event.data as EventPayload<"workspace.renamed.v1">).name });
    case "workspace.deleted.v1":
      return next({ deleted: true, members: new Map(), invitations: new Map() });
    case "workspace.member-added.v1": {
      const d = event.data as EventPayload<"workspace.member-added.v1">;
      return next({ members: withMembers((m) => m.set(d.userId, d.role)) });
    }
    case "workspace.role-changed.v1": {
      const d = event.data as EventPayload<"workspace.role-changed.v1">;
      return next({ members: withMembers((m) => m.set(d.userId, d.role)) });
    }
    case "workspace.member-removed.v1": {
      const d = event.data as EventPayload<"workspace.member-removed.v1">;
      return next({ members: withMembers((m) => m.delete(d.userId)) });
    }
    case "workspace.invited.v1": {
      const d = event.data as EventPayload<"workspace.invited.v1">;
      return next({ invitations: withInvitations((m) => m.set(d.email, { role: d.role, tokenHash: d.tokenHash, expiresAt: d.expiresAt })) });
    }
    case "workspace.invitation-cancelled.v1": {
      const d = event.data as EventPayload<"workspace.invitation-cancelled.v1">;
      return next({ invitations: withInvitations((m) => m.delete(d.email)) });
    }
    case "workspace.invitation-accepted.v1": {
      const d = event.data as EventPayload<"workspace.invitation-accepted.v1">;
      return next({ members: withMembers((m) => m.set(d.userId, d.role)), invitations: withInvitations((m) => m.delete(d.email)) });
    }
    default:
      return next({});
  }
}
