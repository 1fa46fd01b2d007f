/**
 * What each role on a document may do, decided here for the docs aggregate, the sync and
 * history services, the files service and the web app alike: a rule that differed between
 * them would let the interface offer what the server refuses, or a service store what the
 * docs service would refuse.
 */

/**
 * Every role on a document, the most able first; an auditor reads more than a viewer (the whole
 * history) and changes nothing. The event and API schemas are built from this list, so a role
 * cannot be stored before it has its place here. No schema library in this module: the web
 * app's first screen checks roles and should not carry one.
 */
export const Roles = ["owner", "editor", "commenter", "viewer", "auditor"] as const;
type Role = (typeof Roles)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (Roles as readonly string[]).includes(value);
}

/**
 * Owners do everything; editors change content, rename and share below owner; commenters comment;
 * viewers only read the document as it is now; auditors read it and its whole history, and change
 * nothing.
 */
export const Permissions = {
  /** The document as it is now: its content, title, members, comments and files. */
  read: ["owner", "editor", "commenter", "viewer", "auditor"],
  /**
   * Everything it ever was: the edit history, versions, diffs, the activity and the audit trail,
   * deleted text included. As in the best editors, history comes with edit access, or the auditor role.
   */
  history: ["owner", "editor", "auditor"],
  write: ["owner", "editor"],
  /** Start a thread, reply, edit or delete one's own comments, resolve and reopen threads. */
  comment: ["owner", "editor", "commenter"],
  /** Delete anyone's comment. */
  moderateComments: ["owner"],
  rename: ["owner", "editor"],
  share: ["owner", "editor"],
  manageMembers: ["owner"],
  trash: ["owner"],
  transfer: ["owner"],
  /** Register, list, delete, inspect and replay the document's webhooks: they send its events out of the platform. */
  manageWebhooks: ["owner"],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof Permissions;

/** Whether `role` may do `permission`; no role (a stranger) may do nothing. */
export function can(role: Role | null | undefined, permission: Permission): boolean {
  return role !== undefined && role !== null && (Permissions[permission] as readonly Role[]).includes(role);
}

/** Opens the document and reads its content and members. */
export const canRead = (role: Role | null | undefined): boolean => can(role, "read");

/**
 * Changes the content: edits stored over /collab, restores, named versions, attachments.
 * Viewers and commenters connected to /collab receive everything but their updates are refused.
 */
export const canWrite = (role: Role | null | undefined): boolean => can(role, "write");

/** Reads the edit history, versions, diffs, activity and audit trail. */
export const canReadHistory = (role: Role | null | undefined): boolean => can(role, "history");

/** Comments, replies, resolves and reopens threads. */
export const canComment = (role: Role | null | undefined): boolean => can(role, "comment");

/** Invites people and shares with them, below owner. */
export const canShare = (role: Role | null | undefined): boolean => can(role, "share");

/** Changes members' roles and removes members. */
export const canManageMembers = (role: Role | null | undefined): boolean => can(role, "manageMembers");

/**
 * What an API token (for bots and scripts) may be given. Each scope stands for the most able role
 * it allows on a document; the token never has more than its owner's own role there.
 */
export const ApiTokenScopes = ["read", "comment", "write"] as const;
export type ApiTokenScope = (typeof ApiTokenScopes)[number];

export function isApiTokenScope(value: unknown): value is ApiTokenScope {
  return typeof value === "string" && (ApiTokenScopes as readonly string[]).includes(value);
}

const scopeCeiling: Record<ApiTokenScope, Role> = { read: "viewer", comment: "commenter", write: "editor" };

/**
 * The only permissions an API token can ever use: a document's content and comments. Its name,
 * members, owner and place in the trash are for its people, signed in, never for a script.
 */
export const ApiTokenPermissions = ["read", "write", "comment"] as const satisfies readonly Permission[];

/**
 * The role a caller acts with on a document where its user has `role`: through an API token,
 * the lower of that role and the most its scopes allow (null when the scopes allow nothing);
 * without a token (`scopes` undefined, a signed-in session), the role itself. The one place
 * this is decided, so every route and /collab agree.
 */
export function roleAllowedByScopes(role: Role | null | undefined, scopes: readonly ApiTokenScope[] | undefined): Role | null {
  if (role === undefined || role === null) return null;
  if (scopes === undefined) return role;
  // An auditor changes nothing whatever the scopes; what a token may read of the history is
  // decided by ApiTokenPermissions (nothing), not by this cap.
  if (role === "auditor") return scopes.length > 0 ? role : null;
  const ceilings = scopes.map((s) => Roles.indexOf(scopeCeiling[s]));
  if (ceilings.length === 0) return null;
  return Roles[Math.max(Roles.indexOf(role), Math.min(...ceilings))] ?? null;
}

/**
 * Whether a caller with `role` may do `permission`, through an API token with `scopes` when
 * given: the role capped by the scopes, and only the permissions a token may use at all.
 */
export function canWithScopes(role: Role | null | undefined, permission: Permission, scopes: readonly ApiTokenScope[] | undefined): boolean {
  if (scopes !== undefined && !(ApiTokenPermissions as readonly Permission[]).includes(permission)) return false;
  return can(roleAllowedByScopes(role, scopes), permission);
}

/**
 * The stronger of two roles one person has on a document (a share of their own and what their
 * workspace role gives): a share adds to the workspace's role, never takes from it. The roles
 * nest (owner ⊇ editor ⊇ auditor, editor ⊇ commenter ⊇ viewer) but for a commenter who is also an
 * auditor, where the auditor's reading of the history wins over commenting.
 */
const ROLE_STRENGTH: Record<Role, number> = { owner: 5, editor: 4, auditor: 3, commenter: 2, viewer: 1 };
export function strongerRole(a: Role | null | undefined, b: Role | null | undefined): Role | null {
  if (!a) return b ?? null;
  if (!b) return a;
  return ROLE_STRENGTH[a] >= ROLE_STRENGTH[b] ? a : b;
}

/** Every role in a workspace, the most able first. */
export const WorkspaceRoles = ["owner", "admin", "member", "guest", "auditor"] as const;
type WorkspaceRole = (typeof WorkspaceRoles)[number];

export function isWorkspaceRole(value: unknown): value is WorkspaceRole {
  return typeof value === "string" && (WorkspaceRoles as readonly string[]).includes(value);
}

/**
 * The role a workspace role gives on each of the workspace's documents, before any share of the
 * document itself: owners and admins manage them as their owners do, members edit, auditors read
 * them with their history, and guests see only what is shared with them one by one.
 */
export const WorkspaceDocumentRoles = {
  owner: "owner",
  admin: "owner",
  member: "editor",
  guest: null,
  auditor: "auditor",
} as const satisfies Record<WorkspaceRole, Role | null>;

export function workspaceDocumentRole(role: WorkspaceRole | null | undefined): Role | null {
  return role ? WorkspaceDocumentRoles[role] : null;
}

/** What each workspace role may do to the workspace itself. */
export const WorkspacePermissions = {
  /** See the workspace, its name and its members. */
  read: ["owner", "admin", "member", "guest", "auditor"],
  /** Make documents in it, and move documents one owns into it. */
  createDocuments: ["owner", "admin", "member"],
  rename: ["owner", "admin"],
  /** Add, change and remove members below owner. */
  manageMembers: ["owner", "admin"],
  /** Make or unmake owners, delete the workspace. */
  own: ["owner"],
} as const satisfies Record<string, readonly WorkspaceRole[]>;

export type WorkspacePermission = keyof typeof WorkspacePermissions;

export function canInWorkspace(role: WorkspaceRole | null | undefined, permission: WorkspacePermission): boolean {
  return role !== undefined && role !== null && (WorkspacePermissions[permission] as readonly WorkspaceRole[]).includes(role);
}
