import { ApiTokenPermissions, AppError, MAX_WEBHOOKS_PER_DOC, can, canInWorkspace, roleAllowedByScopes, strongerRole, type WorkspaceRole, type ApiTokenScope, type CommentAnchor, type DocKind, type DomainEvent, type EventPayload, type Permission, type Role, type WebhookEventType } from "@palimpsest/contracts";

/**
 * The document aggregate: title, kind, trash state, members and pending invitations.
 * Pure: `decide` turns a command on the current state into events (or refuses it),
 * `evolve` folds an event into the state. No I/O here.
 */
export interface DocState {
  exists: boolean;
  docId: string;
  title: string;
  kind: DocKind;
  ownerId: string;
  trashed: boolean;
  /** Emptied from the trash: gone for good, its id never reused. */
  purged: boolean;
  members: ReadonlyMap<string, Role>;
  /** The workspace it belongs to; null when it is its owner's own. */
  workspaceId: string | null;
  /**
   * Its workspace's members and the roles they have on it through their workspace roles; null when
   * it is in no workspace, or in one deleted since. Not folded from the document's events: whoever
   * loads the document fills it in from the workspace, so deciding stays pure and sees both.
   */
  workspaceAccess: WorkspaceAccess | null;
  /** Removed (or left) and not members again: who they are stays part of the document's record. */
  formerMembers: ReadonlySet<string>;
  /** Pending invitations by email. */
  invitations: ReadonlyMap<string, Invitation>;
  /** Comments that are not deleted, by id: who wrote each and where it belongs (the text is in the read model). */
  comments: ReadonlyMap<string, CommentState>;
  /** Webhooks that are not deleted, by id. */
  webhooks: ReadonlyMap<string, WebhookState>;
  /** Stream sequence of the last event: the version commands are checked against. */
  version: number;
}

export interface WorkspaceAccess {
  /** Everyone in the workspace, guests included. */
  members: ReadonlySet<string>;
  /** The role each gives on its documents (guests: none). */
  grants: ReadonlyMap<string, Role>;
}

export interface WebhookState {
  host: string;
  events: readonly WebhookEventType[];
  disabled: boolean;
}

export interface CommentState {
  authorId: string;
  /** The thread's first comment; absent when this is one. */
  threadId?: string;
  /** For a thread's first comment: whether the thread is done. */
  resolved: boolean;
  mentions: readonly string[];
}

export interface Invitation {
  role: Role;
  /** The hash of the emailed link's token; absent for invitations from before links, which cannot be accepted. */
  tokenHash?: string;
  expiresAt?: string;
}

export const emptyDoc = (docId: string): DocState => ({
  exists: false,
  docId,
  title: "",
  kind: "text",
  ownerId: "",
  trashed: false,
  purged: false,
  members: new Map(),
  workspaceId: null,
  workspaceAccess: null,
  formerMembers: new Set(),
  invitations: new Map(),
  comments: new Map(),
  webhooks: new Map(),
  version: 0,
});

export type DocCommand =
  /** `workspace`: made in it, by someone whose role there is `role` (read before deciding). */
  | { type: "create"; title: string; kind: DocKind; workspace?: { id: string; role: WorkspaceRole | null } }
  /**
   * `to`: a workspace and the caller's role in it, or null for the owner's own documents;
   * `fromRole`: the caller's role in the workspace it is in now (read before deciding).
   */
  | { type: "move"; to: { id: string; role: WorkspaceRole | null } | null; fromRole: WorkspaceRole | null }
  | { type: "rename"; title: string }
  | { type: "trash" }
  | { type: "untrash" }
  | { type: "purge" }
  | { type: "share-with-user"; userId: string; role: Role; invitedEmail?: string }
  | { type: "invite"; email: string; role: Role; tokenHash: string; expiresAt: string }
  /** `now` is the time the link is presented, passed in so deciding stays pure. */
  | { type: "accept-invitation"; tokenHash: string; userId: string; now: string }
  | { type: "cancel-invitation"; email: string }
  | { type: "change-role"; userId: string; role: Role }
  | { type: "remove-member"; userId: string }
  | { type: "leave" }
  | { type: "transfer-ownership"; toUserId: string }
  | { type: "name-version"; name: string; seq: number }
  | { type: "add-comment"; commentId: string; body: string; mentions: readonly string[]; anchor?: CommentAnchor }
  /** `to`: the thread, or any comment in it. */
  | { type: "reply"; commentId: string; to: string; body: string; mentions: readonly string[] }
  /** Without `mentions`, the comment keeps the ones it has. */
  | { type: "edit-comment"; commentId: string; body: string; mentions?: readonly string[] }
  | { type: "delete-comment"; commentId: string }
  /** `commentId`: the thread, or any comment in it. */
  | { type: "resolve-thread"; commentId: string; resolved: boolean }
  /** `url` is checked (scheme, where it points) before it gets here; `editVersion` is the document's edit version now. */
  | { type: "register-webhook"; webhookId: string; host: string; sealedUrl: string; events: readonly WebhookEventType[]; editVersion: number }
  | { type: "delete-webhook"; webhookId: string }
  /** By the service (no actor), when deliveries keep failing. */
  | { type: "disable-webhook"; webhookId: string; reason: string }
  /** A replay of a disabled endpoint turns it on again. */
  | { type: "enable-webhook"; webhookId: string };

export type DocEventData = {
  [K in DocEventType]: { type: K; data: EventPayload<K> };
}[DocEventType];

export type DocEventType =
  | "doc.created.v1"
  | "doc.moved.v1"
  | "doc.renamed.v1"
  | "doc.trashed.v1"
  | "doc.untrashed.v1"
  | "doc.purged.v1"
  | "doc.shared.v1"
  | "doc.invited.v1"
  | "doc.invited.v2"
  | "doc.invitation-cancelled.v1"
  | "doc.role-changed.v1"
  | "doc.member-removed.v1"
  | "doc.ownership-transferred.v1"
  | "doc.version-named.v1"
  | "comment.created.v1"
  | "comment.edited.v1"
  | "comment.deleted.v1"
  | "comment.resolved.v1"
  | "comment.reopened.v1"
  | "webhook.registered.v1"
  | "webhook.deleted.v1"
  | "webhook.disabled.v1"
  | "webhook.enabled.v1";

function notFound(): AppError {
  return new AppError("NOT_FOUND", "document not found");
}

/** The caller's role, or NOT_FOUND for strangers (a stranger learns nothing, not even that the document exists). */
export function roleOf(state: DocState, actorId: string, opts: { allowTrashed?: boolean } = {}): Role {
  const role = effectiveRole(state, actorId);
  if (!state.exists || !role || (state.trashed && !opts.allowTrashed)) throw notFound();
  return role;
}

/**
 * A person's role on the document: their own share, strengthened by their workspace role; null
 * for strangers. A document in a workspace is the workspace's: its owner's share counts only
 * while they are in it, so someone who leaves (or is removed) takes nothing they made there.
 */
export function effectiveRole(state: DocState, userId: string): Role | null {
  const access = state.workspaceAccess;
  const own = state.members.get(userId);
  const counted = own === "owner" && access !== null && !access.members.has(userId) ? undefined : own;
  return strongerRole(counted, access?.grants.get(userId));
}

/** Whether someone can open the document: shared with them, or through its workspace. */
function hasAccess(state: DocState, userId: string): boolean {
  return effectiveRole(state, userId) !== null;
}

/**
 * The role the caller acts with, when it may do `permission`: through an API token (`scopes`),
 * only a document's content and comments, with no more than the scopes allow (roleAllowedByScopes).
 */
function require(state: DocState, actorId: string, scopes: readonly ApiTokenScope[] | undefined, permission: Permission, opts: { allowTrashed?: boolean } = {}): Role {
  const role = roleOf(state, actorId, opts);
  if (scopes !== undefined && !(ApiTokenPermissions as readonly Permission[]).includes(permission)) throw apiTokenNotAllowed();
  const acting = roleAllowedByScopes(role, scopes);
  if (!acting || !can(acting, permission)) throw new AppError("FORBIDDEN", scopes === undefined ? `a ${role} cannot do this` : "this API token's scopes do not allow this");
  return acting;
}

/** Someone outside a workspace learns nothing of it; a guest or an auditor in it makes no documents there. */
function cannotPlaceIn(role: WorkspaceRole | null): AppError {
  return role === null ? new AppError("NOT_FOUND", "workspace not found") : new AppError("FORBIDDEN", `a workspace ${role} cannot add documents to it`);
}

function apiTokenNotAllowed(): AppError {
  return new AppError("API_TOKEN_NOT_ALLOWED", "an API token cannot do this; sign in to manage the document");
}

/** A comment that is not deleted, or NOT_FOUND. */
function commentIn(state: DocState, commentId: string): CommentState {
  const comment = state.comments.get(commentId);
  if (!comment) throw new AppError("NOT_FOUND", "comment not found");
  return comment;
}

/** A webhook that is not deleted, or NOT_FOUND. */
function webhookIn(state: DocState, webhookId: string): WebhookState {
  const hook = state.webhooks.get(webhookId);
  if (!hook) throw new AppError("NOT_FOUND", "webhook not found");
  return hook;
}

/** The thread a comment belongs to: its own id for a thread's first comment. */
function threadOf(state: DocState, commentId: string): string {
  return commentIn(state, commentId).threadId ?? commentId;
}

/** Only members can be mentioned: they are the ones who can open the document to answer. */
function checkMentions(state: DocState, mentions: readonly string[]): void {
  const strangers = mentions.filter((id) => !hasAccess(state, id));
  if (strangers.length > 0) throw new AppError("VALIDATION_FAILED", "only members of the document can be mentioned; share it with them first");
}

/** `scopes`: the command comes through an API token with these scopes; none for a person signed in. */
export function decide(state: DocState, command: DocCommand, actorId: string, scopes?: readonly ApiTokenScope[]): DocEventData[] {
  const docId = state.docId;
  switch (command.type) {
    case "create":
      // A script may make documents for its owner with a write token; it then owns them as its owner does.
      if (scopes !== undefined && !scopes.includes("write")) throw new AppError("FORBIDDEN", "creating a document needs an API token with the write scope");
      if (state.exists || state.purged) throw new AppError("CONFLICT", "document already exists");
      if (command.workspace && !canInWorkspace(command.workspace.role, "createDocuments")) throw cannotPlaceIn(command.workspace.role);
      return [
        { type: "doc.created.v1", data: { docId, title: command.title, kind: command.kind, ownerId: actorId } },
        ...(command.workspace ? [{ type: "doc.moved.v1" as const, data: { docId, from: null, to: command.workspace.id } }] : []),
      ];
    case "move": {
      // Moving decides who reaches the document through a workspace: for those who manage it.
      require(state, actorId, scopes, "trash");
      // A document in a workspace is the workspace's: only its owners and admins take it out.
      if (state.workspaceId !== null && !canInWorkspace(command.fromRole, "manageMembers")) {
        throw new AppError("FORBIDDEN", "only the workspace's owners and admins move its documents out of it");
      }
      if (command.to && !canInWorkspace(command.to.role, "createDocuments")) throw cannotPlaceIn(command.to.role);
      const to = command.to?.id ?? null;
      return to === state.workspaceId ? [] : [{ type: "doc.moved.v1", data: { docId, from: state.workspaceId, to } }];
    }
    case "rename":
      require(state, actorId, scopes, "rename");
      if (command.title === state.title) return [];
      return [{ type: "doc.renamed.v1", data: { docId, title: command.title } }];
    case "trash":
      require(state, actorId, scopes, "trash", { allowTrashed: true });
      return state.trashed ? [] : [{ type: "doc.trashed.v1", data: { docId } }];
    case "untrash":
      require(state, actorId, scopes, "trash", { allowTrashed: true });
      return state.trashed ? [{ type: "doc.untrashed.v1", data: { docId } }] : [];
    case "purge":
      require(state, actorId, scopes, "trash", { allowTrashed: true });
      // Purging skips nothing: a document still in use goes through the trash in the same command.
      return [...(state.trashed ? [] : [{ type: "doc.trashed.v1" as const, data: { docId } }]), { type: "doc.purged.v1", data: { docId } }];
    case "share-with-user": {
      const actorRole = require(state, actorId, scopes, "share");
      if (command.userId === actorId) throw new AppError("VALIDATION_FAILED", "That is your own address: you already have access to this document.");
      if (command.role === "owner") throw new AppError("VALIDATION_FAILED", "transfer ownership instead of sharing as owner");
      const current = state.members.get(command.userId);
      if (current) {
        if (current === command.role) return [];
        // Sharing again with another role is a role change, which only the owner may make.
        if (!can(actorRole, "manageMembers")) throw new AppError("FORBIDDEN", "only the owner can change a member's role");
        if (current === "owner") throw new AppError("FORBIDDEN", "the owner's role cannot be changed; transfer ownership instead");
        return [{ type: "doc.role-changed.v1", data: { docId, userId: command.userId, role: command.role, previousRole: current } }];
      }
      return [{ type: "doc.shared.v1", data: { docId, userId: command.userId, role: command.role, ...(command.invitedEmail ? { invitedEmail: command.invitedEmail } : {}) } }];
    }
    case "invite": {
      require(state, actorId, scopes, "share");
      if (command.role === "owner") throw new AppError("VALIDATION_FAILED", "transfer ownership instead of sharing as owner");
      // Always a new invitation, even for the same email and role: inviting again re-sends the
      // link, and the new token replaces the old one, so only the newest link works.
      return [{ type: "doc.invited.v2", data: { docId, email: command.email, role: command.role, tokenHash: command.tokenHash, expiresAt: command.expiresAt } }];
    }
    case "accept-invitation": {
      if (scopes !== undefined) throw apiTokenNotAllowed();
      // Only the link proves the address: whoever registered with the invited email learns nothing here.
      const found = [...state.invitations].find(([, inv]) => inv.tokenHash !== undefined && inv.tokenHash === command.tokenHash);
      if (!state.exists || state.trashed || !found) throw new AppError("NOT_FOUND", "this invitation link is no longer valid: it was used, cancelled or replaced by a newer one");
      const [email, invitation] = found;
      if (invitation.expiresAt === undefined || Date.parse(invitation.expiresAt) <= Date.parse(command.now)) {
        throw new AppError("NOT_FOUND", "this invitation link has expired; ask for a new one");
      }
      // Already a member: the link is used up and the member keeps the role they have.
      if (state.members.has(command.userId)) return [{ type: "doc.invitation-cancelled.v1", data: { docId, email } }];
      return [{ type: "doc.shared.v1", data: { docId, userId: command.userId, role: invitation.role, invitedEmail: email } }];
    }
    case "cancel-invitation":
      require(state, actorId, scopes, "share");
      if (!state.invitations.has(command.email)) throw new AppError("NOT_FOUND", "no pending invitation for that email");
      return [{ type: "doc.invitation-cancelled.v1", data: { docId, email: command.email } }];
    case "change-role": {
      require(state, actorId, scopes, "manageMembers");
      const current = state.members.get(command.userId);
      if (!current) throw new AppError("NOT_FOUND", "that user is not a member");
      if (command.role === "owner") throw new AppError("VALIDATION_FAILED", "transfer ownership instead of making someone owner");
      if (current === "owner") throw new AppError("FORBIDDEN", "the owner's role cannot be changed; transfer ownership instead");
      if (current === command.role) return [];
      return [{ type: "doc.role-changed.v1", data: { docId, userId: command.userId, role: command.role, previousRole: current } }];
    }
    case "remove-member": {
      if (command.userId === actorId) return decide(state, { type: "leave" }, actorId, scopes);
      require(state, actorId, scopes, "manageMembers");
      const current = state.members.get(command.userId);
      if (!current) throw new AppError("NOT_FOUND", "that user is not a member");
      // A workspace's admin manages the document as its owner does, but cannot remove its owner.
      if (command.userId === state.ownerId) throw new AppError("FORBIDDEN", "the owner cannot be removed; the owner can hand the document over first");
      return [{ type: "doc.member-removed.v1", data: { docId, userId: command.userId, reason: "removed" } }];
    }
    case "leave": {
      if (scopes !== undefined) throw apiTokenNotAllowed();
      roleOf(state, actorId, { allowTrashed: true });
      // What one leaves is one's own share; a workspace role stays until one leaves the workspace.
      const own = state.members.get(actorId);
      if (!own) throw new AppError("CONFLICT", "you reach this document through its workspace: leave the workspace to lose it");
      if (own === "owner") throw new AppError("FORBIDDEN", "the owner cannot leave; transfer ownership first");
      return [{ type: "doc.member-removed.v1", data: { docId, userId: actorId, reason: "left" } }];
    }
    case "name-version":
      require(state, actorId, scopes, "write");
      return [{ type: "doc.version-named.v1", data: { docId, name: command.name, seq: command.seq } }];
    case "add-comment": {
      require(state, actorId, scopes, "comment");
      checkMentions(state, command.mentions);
      if (state.comments.has(command.commentId)) throw new AppError("CONFLICT", "comment already exists");
      const anchor = command.anchor;
      if (anchor && (anchor.type === "text") !== (state.kind === "text")) {
        throw new AppError("VALIDATION_FAILED", state.kind === "text" ? "a comment on a text document points at a range of its text" : "a comment on a board points at a card");
      }
      return [{ type: "comment.created.v1", data: { docId, commentId: command.commentId, ...(anchor ? { anchor } : {}), body: command.body, mentions: [...command.mentions] } }];
    }
    case "reply": {
      require(state, actorId, scopes, "comment");
      checkMentions(state, command.mentions);
      const threadId = threadOf(state, command.to);
      if (state.comments.has(command.commentId)) throw new AppError("CONFLICT", "comment already exists");
      // One event, which also opens a resolved thread again (see evolve): a reply stored without
      // its reopening would leave a keyed retry nothing to decide but a conflict.
      return [{ type: "comment.created.v1", data: { docId, commentId: command.commentId, threadId, body: command.body, mentions: [...command.mentions] } }];
    }
    case "edit-comment": {
      require(state, actorId, scopes, "comment");
      const comment = commentIn(state, command.commentId);
      if (comment.authorId !== actorId) throw new AppError("FORBIDDEN", "only its author can change a comment");
      const mentions = command.mentions ?? comment.mentions;
      checkMentions(state, mentions.filter((id) => !comment.mentions.includes(id)));
      return [{ type: "comment.edited.v1", data: { docId, commentId: command.commentId, body: command.body, mentions: [...mentions] } }];
    }
    case "delete-comment": {
      const role = require(state, actorId, scopes, "comment");
      const comment = commentIn(state, command.commentId);
      if (comment.authorId !== actorId && !can(role, "moderateComments")) throw new AppError("FORBIDDEN", "only its author or the owner can delete a comment");
      // A thread's first comment takes the replies with it: others' words go only by the owner's hand.
      const othersReplied = [...state.comments.values()].some((c) => c.threadId === command.commentId && c.authorId !== actorId);
      if (othersReplied && !can(role, "moderateComments")) {
        throw new AppError("FORBIDDEN", "others have replied in this thread: resolve it, or change your comment; only the owner can delete the thread");
      }
      return [{ type: "comment.deleted.v1", data: { docId, commentId: command.commentId } }];
    }
    case "resolve-thread": {
      require(state, actorId, scopes, "comment");
      const threadId = threadOf(state, command.commentId);
      if (commentIn(state, threadId).resolved === command.resolved) return [];
      return [{ type: command.resolved ? "comment.resolved.v1" : "comment.reopened.v1", data: { docId, commentId: threadId } }];
    }
    case "register-webhook": {
      require(state, actorId, scopes, "manageWebhooks");
      if (state.webhooks.has(command.webhookId)) throw new AppError("CONFLICT", "webhook already exists");
      if (state.webhooks.size >= MAX_WEBHOOKS_PER_DOC) throw new AppError("WEBHOOK_LIMIT_REACHED", `a document has at most ${MAX_WEBHOOKS_PER_DOC} webhooks; delete one first`);
      const data = { docId, webhookId: command.webhookId, host: command.host, sealedUrl: command.sealedUrl, events: [...command.events], editVersion: command.editVersion };
      return [{ type: "webhook.registered.v1", data }];
    }
    case "delete-webhook":
      require(state, actorId, scopes, "manageWebhooks", { allowTrashed: true });
      webhookIn(state, command.webhookId);
      return [{ type: "webhook.deleted.v1", data: { docId, webhookId: command.webhookId } }];
    case "disable-webhook": {
      // The service's own decision: no member's permission is asked, and a webhook gone meanwhile is left alone.
      const hook = state.webhooks.get(command.webhookId);
      if (!state.exists || !hook || hook.disabled) return [];
      return [{ type: "webhook.disabled.v1", data: { docId, webhookId: command.webhookId, reason: command.reason, ownerId: state.ownerId } }];
    }
    case "enable-webhook":
      require(state, actorId, scopes, "manageWebhooks");
      return webhookIn(state, command.webhookId).disabled ? [{ type: "webhook.enabled.v1", data: { docId, webhookId: command.webhookId } }] : [];
    case "transfer-ownership": {
      require(state, actorId, scopes, "transfer");
      // Its owner hands it over; a workspace's owners and admins manage it but do not own it.
      if (actorId !== state.ownerId) throw new AppError("FORBIDDEN", "only the document's owner can hand it over");
      if (command.toUserId === actorId) return [];
      if (!hasAccess(state, command.toUserId)) throw new AppError("VALIDATION_FAILED", "share the document with that user first");
      // The former owner's endpoints, whose secrets they alone were shown, would go on hearing
      // everything: they stop, and the new owner is told.
      const reason = "the document changed owner: its webhooks were turned off; register new ones to receive its events";
      const stopped = [...state.webhooks]
        .filter(([, hook]) => !hook.disabled)
        .map(([webhookId]): DocEventData => ({ type: "webhook.disabled.v1", data: { docId, webhookId, reason, ownerId: command.toUserId } }));
      return [{ type: "doc.ownership-transferred.v1", data: { docId, fromUserId: state.ownerId, toUserId: command.toUserId } }, ...stopped];
    }
  }
}

export function evolve(state: DocState, event: DomainEvent, seq: number): DocState {
  const next = (patch: Partial<DocState>): DocState => ({ ...state, ...patch, version: seq });
  const withMembers = (f: (m: Map<string, Role>) => void): ReadonlyMap<string, Role> => {
    const m = new Map(state.members);
    f(m);
    return m;
  };
  const withFormer = (f: (s: Set<string>) => void): ReadonlySet<string> => {
    const s = new Set(state.formerMembers);
    f(s);
    return s;
  };
  const withInvitations = (f: (m: Map<string, Invitation>) => void): ReadonlyMap<string, Invitation> => {
    const m = new Map(state.invitations);
    f(m);
    return m;
  };
  const withComments = (f: (m: Map<string, CommentState>) => void): ReadonlyMap<string, CommentState> => {
    const m = new Map(state.comments);
    f(m);
    return m;
  };
  const withWebhooks = (f: (m: Map<string, WebhookState>) => void): ReadonlyMap<string, WebhookState> => {
    const m = new Map(state.webhooks);
    f(m);
    return m;
  };
  switch (event.type) {
    case "doc.created.v1": {
      const d = event.data as EventPayload<"doc.created.v1">;
      return next({ exists: true, title: d.title, kind: d.kind, ownerId: d.ownerId, members: new Map([[d.ownerId, "owner"]]) });
    }
    case "doc.moved.v1":
      return next({ workspaceId: (event.data as EventPayload<"doc.moved.v1">).to });
    case "doc.renamed.v1":
      return next({ title: (event.data as EventPayload<"doc.renamed.v1">).title });
    case "doc.trashed.v1":
      return next({ trashed: true });
    case "doc.untrashed.v1":
      return next({ trashed: false });
    case "doc.shared.v1": {
      const d = event.data as EventPayload<"doc.shared.v1">;
      return next({
        members: withMembers((m) => m.set(d.userId, d.role)),
        formerMembers: state.formerMembers.has(d.userId) ? withFormer((f) => f.delete(d.userId)) : state.formerMembers,
        invitations: d.invitedEmail ? withInvitations((m) => m.delete(d.invitedEmail!)) : state.invitations,
      });
    }
    case "doc.invited.v1": {
      const d = event.data as EventPayload<"doc.invited.v1">;
      return next({ invitations: withInvitations((m) => m.set(d.email, { role: d.role })) });
    }
    case "doc.invited.v2": {
      const d = event.data as EventPayload<"doc.invited.v2">;
      return next({ invitations: withInvitations((m) => m.set(d.email, { role: d.role, tokenHash: d.tokenHash, expiresAt: d.expiresAt })) });
    }
    case "doc.invitation-cancelled.v1": {
      const d = event.data as EventPayload<"doc.invitation-cancelled.v1">;
      return next({ invitations: withInvitations((m) => m.delete(d.email)) });
    }
    case "doc.role-changed.v1": {
      const d = event.data as EventPayload<"doc.role-changed.v1">;
      return next({ members: withMembers((m) => m.set(d.userId, d.role)) });
    }
    case "doc.member-removed.v1": {
      const d = event.data as EventPayload<"doc.member-removed.v1">;
      return next({ members: withMembers((m) => m.delete(d.userId)), formerMembers: withFormer((f) => f.add(d.userId)) });
    }
    case "doc.ownership-transferred.v1": {
      const d = event.data as EventPayload<"doc.ownership-transferred.v1">;
      return next({ ownerId: d.toUserId, members: withMembers((m) => m.set(d.fromUserId, "editor").set(d.toUserId, "owner")) });
    }
    case "comment.created.v1": {
      const d = event.data as EventPayload<"comment.created.v1">;
      const comment: CommentState = { authorId: event.actorId ?? "", resolved: false, mentions: d.mentions, ...(d.threadId ? { threadId: d.threadId } : {}) };
      return next({
        comments: withComments((m) => {
          m.set(d.commentId, comment);
          // Answering a thread that was done opens it again, as people expect from a conversation.
          const thread = d.threadId === undefined ? undefined : m.get(d.threadId);
          if (d.threadId !== undefined && thread?.resolved) m.set(d.threadId, { ...thread, resolved: false });
        }),
      });
    }
    case "comment.edited.v1": {
      const d = event.data as EventPayload<"comment.edited.v1">;
      const comment = state.comments.get(d.commentId);
      return comment ? next({ comments: withComments((m) => m.set(d.commentId, { ...comment, mentions: d.mentions })) }) : next({});
    }
    case "comment.deleted.v1": {
      const d = event.data as EventPayload<"comment.deleted.v1">;
      // A thread goes with its first comment.
      return next({ comments: withComments((m) => {
        m.delete(d.commentId);
        for (const [id, c] of m) if (c.threadId === d.commentId) m.delete(id);
      }) });
    }
    case "comment.resolved.v1":
    case "comment.reopened.v1": {
      const d = event.data as EventPayload<"comment.resolved.v1">;
      const comment = state.comments.get(d.commentId);
      const resolved = event.type === "comment.resolved.v1";
      return comment ? next({ comments: withComments((m) => m.set(d.commentId, { ...comment, resolved })) }) : next({});
    }
    case "webhook.registered.v1": {
      const d = event.data as EventPayload<"webhook.registered.v1">;
      return next({ webhooks: withWebhooks((m) => m.set(d.webhookId, { host: d.host, events: d.events, disabled: false })) });
    }
    case "webhook.deleted.v1":
      return next({ webhooks: withWebhooks((m) => m.delete((event.data as EventPayload<"webhook.deleted.v1">).webhookId)) });
    case "webhook.disabled.v1":
    case "webhook.enabled.v1": {
      const d = event.data as EventPayload<"webhook.enabled.v1">;
      const hook = state.webhooks.get(d.webhookId);
      const disabled = event.type === "webhook.disabled.v1";
      return hook ? next({ webhooks: withWebhooks((m) => m.set(d.webhookId, { ...hook, disabled })) }) : next({});
    }
    case "doc.purged.v1":
      return next({ exists: false, purged: true, trashed: true, members: new Map(), formerMembers: new Set(), invitations: new Map(), comments: new Map(), webhooks: new Map() });
    default:
      return next({});
  }
}
