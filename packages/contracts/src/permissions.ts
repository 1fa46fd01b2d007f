/**
 * What each role on a document may do, decided here for the docs aggregate, the sync and
 * history services, the files service and the web app alike: a rule that differed between
 * them would let the interface offer what the server refuses, or a service store what the
 * docs service would refuse.
 */

/**
 * Every role on a document, the most able first. The event and API schemas are built from this
 * list, so a role cannot be stored before it has its place here. No schema library in this
 * module: the web app's first screen checks roles and should not carry one.
 */
export const Roles = ["owner", "editor", "commenter", "viewer"] as const;
type Role = (typeof Roles)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (Roles as readonly string[]).includes(value);
}

/** Owners do everything; editors change content, rename and share below owner; commenters comment; viewers only read. */
export const Permissions = {
  read: ["owner", "editor", "commenter", "viewer"],
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

/** Opens the document and reads its content, history and members. */
export const canRead = (role: Role | null | undefined): boolean => can(role, "read");

/**
 * Changes the content: edits stored over /collab, restores, named versions, attachments.
 * Viewers and commenters connected to /collab receive everything but their updates are refused.
 */
export const canWrite = (role: Role | null | undefined): boolean => can(role, "write");

/** Comments, replies, resolves and reopens threads. */
export const canComment = (role: Role | null | undefined): boolean => can(role, "comment");

/** Invites people and shares with them, below owner. */
export const canShare = (role: Role | null | undefined): boolean => can(role, "share");

/** Changes members' roles and removes members. */
export const canManageMembers = (role: Role | null | undefined): boolean => can(role, "manageMembers");
