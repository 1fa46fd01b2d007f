import { Type, type Static } from "@sinclair/typebox";
import { ApiTokenName, ApiTokenScopeList, CommentAnchor, CommentBody, CommentMentions, DocKind, NotificationEmailSetting, Role, WorkspaceName, WorkspaceRole } from "./events.ts";
import type { ApiTokenScope } from "./permissions.ts";
import type { ErrorBody } from "./errors.ts";
import type { BoardCardChange } from "./board-diff.ts";
import { SAFE_ID_PATTERN } from "./ids.ts";

/**
 * Request and response shapes of the public REST API (see DESIGN.md) and of the NATS
 * request/reply calls behind it. The gateway validates REST bodies with these schemas;
 * each service validates the RPC input again at its own edge.
 */
const Id = Type.String({ pattern: SAFE_ID_PATTERN });

export const RegisterBody = Type.Object(
  {
    email: Type.String({ minLength: 3, maxLength: 320 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    name: Type.String({ minLength: 1, maxLength: 100 }),
  },
  { additionalProperties: false },
);
export type RegisterBody = Static<typeof RegisterBody>;

export const LoginBody = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 320 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);
export type LoginBody = Static<typeof LoginBody>;

export const RefreshBody = Type.Object(
  { refreshToken: Type.String({ minLength: 16, maxLength: 256 }) },
  { additionalProperties: false },
);
export type RefreshBody = Static<typeof RefreshBody>;

/** `POST /api/auth/refresh` over HTTP: without a token, the browser's session cookie is used. */
export const RefreshRequestBody = Type.Object(
  { refreshToken: Type.Optional(Type.String({ minLength: 16, maxLength: 256 })) },
  { additionalProperties: false },
);
export type RefreshRequestBody = Static<typeof RefreshRequestBody>;

export const LogoutBody = Type.Object(
  { refreshToken: Type.Optional(Type.String({ minLength: 16, maxLength: 256 })) },
  { additionalProperties: false },
);
export type LogoutBody = Static<typeof LogoutBody>;

/** `POST /api/auth/password`: the current password proves it is the account's owner at the keyboard. */
export const ChangePasswordBody = Type.Object(
  {
    currentPassword: Type.String({ minLength: 1, maxLength: 1024 }),
    newPassword: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);
export type ChangePasswordBody = Static<typeof ChangePasswordBody>;

/** `POST /api/auth/password/forgot`: the answer is the same whether an account has this email or not. */
export const ForgotPasswordBody = Type.Object({ email: Type.String({ minLength: 1, maxLength: 320 }) }, { additionalProperties: false });
export type ForgotPasswordBody = Static<typeof ForgotPasswordBody>;

/** `POST /api/auth/password/reset`: the token from the emailed link and the new password. */
export const ResetPasswordBody = Type.Object(
  {
    token: Type.String({ minLength: 16, maxLength: 256 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);
export type ResetPasswordBody = Static<typeof ResetPasswordBody>;

/** `POST /api/auth/register/confirm`: the token from the emailed registration link. */
export const ConfirmRegistrationBody = Type.Object({ token: Type.String({ minLength: 16, maxLength: 256 }) }, { additionalProperties: false });
export type ConfirmRegistrationBody = Static<typeof ConfirmRegistrationBody>;

export const CreateDocBody = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200 }),
    kind: Type.Optional(DocKind),
    /** Made in this workspace (its owners, admins and members may); without it, the caller's own. */
    workspaceId: Type.Optional(Type.String({ pattern: SAFE_ID_PATTERN })),
  },
  { additionalProperties: false },
);
export type CreateDocBody = Static<typeof CreateDocBody>;

export const ListDocsQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    q: Type.Optional(Type.String({ maxLength: 200 })),
    /** `true` lists my documents in the trash instead. */
    trashed: Type.Optional(Type.Boolean()),
    /** Only the documents of this workspace; `personal` for those in none. */
    workspaceId: Type.Optional(Type.String({ pattern: SAFE_ID_PATTERN })),
  },
  { additionalProperties: false },
);
export type ListDocsQuery = Static<typeof ListDocsQuery>;

export const HistoryQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    /** Only edits by this user. */
    author: Type.Optional(Type.String({ pattern: SAFE_ID_PATTERN })),
    /** Only edits at or after / before this time. */
    from: Type.Optional(Type.String({ format: "date-time" })),
    to: Type.Optional(Type.String({ format: "date-time" })),
  },
  { additionalProperties: false },
);
export const VersionParams = Type.Object({ id: Id, seq: Type.Integer({ minimum: 0 }) }, { additionalProperties: false });
export const VersionAtQuery = Type.Object({ at: Type.String({ format: "date-time" }) }, { additionalProperties: false });
export const VersionInput = Type.Object(
  { id: Id, seq: Type.Optional(Type.Integer({ minimum: 0 })), at: Type.Optional(Type.String({ format: "date-time" })) },
  { additionalProperties: false },
);
export const NameVersionBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100 }), seq: Type.Optional(Type.Integer({ minimum: 0 })) },
  { additionalProperties: false },
);
export interface NamedVersion {
  name: string;
  seq: number;
  namedBy: string;
  namedAt: string;
}
export const LookupInput = Type.Object({ email: Type.String({ minLength: 3, maxLength: 320 }) }, { additionalProperties: false });
export const HeadInput = Type.Object({ docId: Id }, { additionalProperties: false });

export const RestoreBody = Type.Object({ seq: Type.Integer({ minimum: 0 }) }, { additionalProperties: false });
export const RestoreInput = Type.Object({ id: Id, seq: Type.Integer({ minimum: 0 }) }, { additionalProperties: false });
export const DiffQuery = Type.Object({ from: Type.Integer({ minimum: 0 }), to: Type.Integer({ minimum: 0 }) }, { additionalProperties: false });
export const DiffInput = Type.Object({ id: Id, from: Type.Integer({ minimum: 0 }), to: Type.Integer({ minimum: 0 }) }, { additionalProperties: false });

export interface RestoreResult {
  restoredFrom: number;
  /** Position of the restoring edit in the EDITS stream; it appears in the history as the next version. */
  streamSeq: number;
  /** False when the document already equalled that version. */
  changed: boolean;
}

/** A run of text between two versions: unchanged, or inserted / deleted by an author. */
export interface DiffSegment {
  kind: "same" | "insert" | "delete";
  text: string;
  userId?: string;
}

export interface DiffView {
  from: number;
  to: number;
  /** The plain text's changes, for clients that show text only, and boards. */
  segments: DiffSegment[];
  authors: string[];
  /** Rich text documents: the changes shown in the document itself, with its formatting. */
  rich?: RichDiff;
  /** Boards: each card's change, with who made it. */
  board?: BoardCardChange[];
}

/**
 * The mark a rich diff puts on text inserted, deleted or reformatted between the two versions:
 * `attrs.kind` says which, `attrs.userId` who. Browsers render it with the editor's own schema.
 */
export const DIFF_CHANGE_MARK = "diffChange";
export type DiffChangeKind = "insert" | "delete" | "format";

/** A node of the editor's JSON (ProseMirror's), as the editor's schema reads it. */
export interface RichDiffNode {
  type: string;
  attrs?: Record<string, unknown>;
  content?: RichDiffNode[];
  text?: string;
  marks?: { type: string; attrs?: Record<string, unknown> }[];
}

export interface RichDiff {
  /** The later version with what was deleted since the earlier one kept in place, every change marked. */
  content: RichDiffNode;
  /** Characters each author inserted, deleted and reformatted, most first. */
  totals: { userId: string; inserted: number; deleted: number; formatted: number }[];
}

export const SnapshotInput = Type.Object({ docId: Id }, { additionalProperties: false });

export interface VersionView {
  seq: number;
  at: string | null;
  userId: string | null;
  text: string;
  markdown: string;
  board?: unknown;
  /** The whole Yjs state at this version, base64: load it into a Y.Doc to see it as it was. */
  state: string;
}

export interface SnapshotView {
  seq: number;
  streamSeq: number;
  /** base64 Yjs state; null when no snapshot exists yet. */
  state: string | null;
  /** base64 merged runs of the updates that follow the snapshot, in order. */
  chunks: string[];
  /** The stream position the state and the chunks reach: the stream's updates after it are the tail. */
  tailAfterStreamSeq: number;
}
export type HistoryQuery = Static<typeof HistoryQuery>;

export const DocIdParams = Type.Object({ id: Id }, { additionalProperties: false });
export const MemberParams = Type.Object({ id: Id, userId: Id }, { additionalProperties: false });

/** `DELETE /api/docs/:id?purge=true`: empty it from the trash for good (owner); its files are deleted from the store. */
export const TrashQuery = Type.Object({ purge: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
export const TrashBody = Type.Object({ purge: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
export const RenameDocBody = Type.Object({ title: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
export const ShareBody = Type.Object(
  { email: Type.String({ minLength: 3, maxLength: 320 }), role: Role },
  { additionalProperties: false },
);
export const InvitationBody = Type.Object({ email: Type.String({ minLength: 3, maxLength: 320 }) }, { additionalProperties: false });
/** `POST /api/invitations/accept`: the token from the emailed link, by a signed-in user. */
export const AcceptInvitationBody = Type.Object({ token: Type.String({ minLength: 16, maxLength: 256 }) }, { additionalProperties: false });
export type AcceptInvitationBody = Static<typeof AcceptInvitationBody>;
export const RoleBody = Type.Object({ role: Role }, { additionalProperties: false });
export const TransferBody = Type.Object({ userId: Id }, { additionalProperties: false });
export const EmptyBody = Type.Object({}, { additionalProperties: false });

/**
 * Input of every document command over RPC: the route's params and body, plus what the
 * gateway adds: an idempotency key (retries store once) and an expected version (If-Match).
 */
export const DocCommandInput = Type.Object(
  {
    id: Id,
    userId: Type.Optional(Id),
    body: Type.Optional(Type.Unknown()),
    idempotencyKey: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    expectedVersion: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);
export type DocCommandInput = Static<typeof DocCommandInput>;
export const CreateDocInput = Type.Object(
  { body: Type.Unknown(), idempotencyKey: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
  { additionalProperties: false },
);

/** `POST /api/docs/:id/comments`: a new thread, on a range of the text, on a card, or on the whole document. */
export const CreateCommentBody = Type.Object({ body: CommentBody, anchor: Type.Optional(CommentAnchor), mentions: Type.Optional(CommentMentions) }, { additionalProperties: false });
/** `POST /api/comments/:id/replies`. */
export const ReplyBody = Type.Object({ body: CommentBody, mentions: Type.Optional(CommentMentions) }, { additionalProperties: false });
/** `PATCH /api/comments/:id`: new text for one's own comment (with the mentions it has), or a thread resolved or opened again. */
export const UpdateCommentBody = Type.Object(
  { body: Type.Optional(CommentBody), mentions: Type.Optional(CommentMentions), resolved: Type.Optional(Type.Boolean()) },
  { additionalProperties: false, minProperties: 1 },
);
export const CommentStatus = Type.Union([Type.Literal("open"), Type.Literal("resolved"), Type.Literal("all")]);
export const CommentsQuery = Type.Object({ status: Type.Optional(CommentStatus) }, { additionalProperties: false });
export const CommentsInput = Type.Object({ id: Id, status: Type.Optional(CommentStatus) }, { additionalProperties: false });
export const CommentIdParams = Type.Object({ id: Id }, { additionalProperties: false });
/** Input of a command on one comment over RPC: the comment's id, the body, and an idempotency key. */
export const CommentCommandInput = Type.Object(
  { id: Id, body: Type.Optional(Type.Unknown()), idempotencyKey: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
  { additionalProperties: false },
);

export interface CommentView {
  id: string;
  body: string;
  authorId: string;
  /** The author's name as it is now (empty when the account is unknown here). */
  authorName: string;
  mentions: string[];
  createdAt: string;
  /** When its text last changed (the creation time if never). */
  updatedAt: string;
}

/** A thread: its first comment, where it points, whether it is done, and the replies in order. */
export interface CommentThreadView extends CommentView {
  docId: string;
  /** Absent for a comment on the whole document. */
  anchor?: CommentAnchor;
  resolved: boolean;
  resolvedBy?: string;
  resolvedAt?: string;
  replies: CommentView[];
}

/** `GET /api/docs/:id/comments`: the threads, and the document's version they were read at. */
export interface CommentList {
  items: CommentThreadView[];
  version: number;
}

/** `GET /api/notifications?unread=true`. */
export const NotificationsQuery = Type.Object(
  {
    unread: Type.Optional(Type.Boolean()),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
    /** The previous page's `nextCursor`: the notifications older than its last. */
    cursor: Type.Optional(Type.String({ pattern: "^[1-9][0-9]{0,15}$" })),
  },
  { additionalProperties: false },
);
/** `POST /api/notifications/read`: these (ids from my inbox), or all of them. */
export const MarkReadBody = Type.Object(
  { ids: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 500 })), all: Type.Optional(Type.Literal(true)) },
  { additionalProperties: false, minProperties: 1 },
);
/** `webhook_disabled`: one of my documents' webhooks was turned off after its deliveries kept failing. */
export const NotificationTypes = ["mention", "reply", "share", "webhook_disabled"] as const;
export type NotificationType = (typeof NotificationTypes)[number];

export interface NotificationView {
  id: string;
  type: NotificationType;
  docId: string;
  /** The document's title now (empty when it is gone). */
  docTitle: string;
  docKind: Static<typeof DocKind>;
  /** The comment it is about (a mention, a reply). */
  commentId?: string;
  /** Who did it, and their name now. */
  actorId: string;
  actorName: string;
  /** For a mention or a reply: the start of what was said; for a disabled webhook: why. */
  excerpt?: string;
  at: string;
  read: boolean;
}

export interface NotificationList {
  items: NotificationView[];
  /** Unread notifications in all, however many are listed. */
  unread: number;
  /** There are older ones: ask again with `?cursor=` this. */
  nextCursor?: string;
}

/** `GET/PUT /api/notifications/settings`: what comes by email besides the inbox. */
export const NotificationSettings = Type.Object({ email: NotificationEmailSetting }, { additionalProperties: false });
export type NotificationSettings = Static<typeof NotificationSettings>;

/**
 * One message on `GET /api/notifications/live` (Server-Sent Events, event name `inbox`): the
 * person's inbox changed (something new, or read elsewhere); the client reads it again.
 */
export interface InboxChangedNotice {
  at: string;
}
/** The SSE event name of an InboxChangedNotice. */
export const INBOX_CHANGED_EVENT = "inbox";

export interface MemberView {
  userId: string;
  email: string;
  name: string;
  role: Static<typeof Role>;
}

export interface InvitationView {
  email: string;
  role: Static<typeof Role>;
  /** When the emailed link stops working (absent for an invitation from before links). */
  expiresAt?: string;
}

/** Someone who was a member and is no longer: named, because their edits stay in the history. */
export interface FormerMemberView {
  userId: string;
  name: string;
}

export interface MembersView {
  members: MemberView[];
  /** Those removed (or who left): their names, so the history keeps saying who wrote what. */
  formerMembers: FormerMemberView[];
  /** Pending invitations: listed only to members who may share (owner, editor); empty for the rest. */
  invitations: InvitationView[];
  /**
   * The workspace the document belongs to and who reaches it through their workspace role (with
   * the role that gives here; a share of their own may add to it); null for a document in none.
   */
  workspace: { id: string; name: string; members: (MemberView & { workspaceRole: Static<typeof WorkspaceRole> })[] } | null;
}

/** `POST /api/invitations/accept` answers with the document now shared with the caller. */
/** What an accepted link joined: a document (with my role there) or a workspace (with my role in it). */
export type AcceptedInvitation =
  | { docId: string; kind: Static<typeof DocKind>; role: Static<typeof Role> }
  | { workspaceId: string; role: Static<typeof WorkspaceRole> };

export interface ActivityItem {
  at: string;
  /** Who acted (for an editing session, who edited). */
  userId: string | null;
  type: string;
  data?: Record<string, unknown>;
  /** Editing sessions: consecutive edits of one person summarised. */
  session?: { from: string; to: string; edits: number };
}

export interface UserView {
  id: string;
  email: string;
  name: string;
}

export interface AuthResult {
  user: UserView;
  accessToken: string;
  refreshToken: string;
}

/**
 * `POST /api/auth/register` where registration is confirmed by email (REGISTRATION_CONFIRMATION=email):
 * 202 with this, the same body whether or not the address has an account.
 */
export interface RegistrationPending {
  message: string;
}

export interface DocView {
  id: string;
  title: string;
  kind: Static<typeof DocKind>;
  role: Static<typeof Role>;
  ownerId: string;
  createdAt: string;
  /** Last change to the document: its content or its metadata. */
  updatedAt: string;
  trashed: boolean;
  /** The aggregate's version, for `If-Match`. */
  version: number;
  /** The workspace it belongs to; null when it is its owner's own. */
  workspaceId: string | null;
}

/** `POST /api/docs/:id/move`: into a workspace, or out of one to its owner's own documents (null). */
export const MoveDocBody = Type.Object({ workspaceId: Type.Union([Type.String({ pattern: SAFE_ID_PATTERN }), Type.Null()]) }, { additionalProperties: false });
export type MoveDocBody = Static<typeof MoveDocBody>;

/** `ListDocsQuery.workspaceId` naming the documents in no workspace. */
export const PERSONAL_DOCUMENTS = "personal";

export const CreateWorkspaceBody = Type.Object({ name: WorkspaceName }, { additionalProperties: false });
export type CreateWorkspaceBody = Static<typeof CreateWorkspaceBody>;
export const RenameWorkspaceBody = CreateWorkspaceBody;
export const AddWorkspaceMemberBody = Type.Object({ email: Type.String({ minLength: 3, maxLength: 320 }), role: WorkspaceRole }, { additionalProperties: false });
export type AddWorkspaceMemberBody = Static<typeof AddWorkspaceMemberBody>;
export const WorkspaceRoleBody = Type.Object({ role: WorkspaceRole }, { additionalProperties: false });
export const WorkspaceCommandInput = Type.Object(
  {
    id: Type.String({ pattern: SAFE_ID_PATTERN }),
    userId: Type.Optional(Type.String({ pattern: SAFE_ID_PATTERN })),
    body: Type.Optional(Type.Unknown()),
    idempotencyKey: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type WorkspaceCommandInput = Static<typeof WorkspaceCommandInput>;

export interface WorkspaceView {
  id: string;
  name: string;
  /** The caller's role in it. */
  role: Static<typeof WorkspaceRole>;
  createdAt: string;
  memberCount: number;
}

export interface WorkspaceMemberView {
  userId: string;
  email: string;
  name: string;
  role: Static<typeof WorkspaceRole>;
}

/** `GET /api/workspaces/:id/members`: the members, and (for owners and admins) the pending invitations. */
export interface WorkspaceMembersView extends Page<WorkspaceMemberView> {
  invitations: { email: string; role: Static<typeof WorkspaceRole>; expiresAt: string }[];
}

/** `POST /api/workspaces/:id/invitations/cancel`. */
export const CancelWorkspaceInvitationBody = Type.Object({ email: Type.String({ minLength: 3, maxLength: 320 }) }, { additionalProperties: false });

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface EditView {
  /** The document's version: 1 for its first edit, counted per document. */
  seq: number;
  /** Position in the EDITS stream, the global order of all edits. */
  streamSeq: number;
  at: string;
  userId: string;
  clientId: string;
  size: number;
  /** Made through one of the user's API tokens: which one, by id and name. */
  via?: { tokenId: string; name: string };
}

/* ---- NATS request/reply envelope ---- */

/**
 * Who is calling: the user and session of an access token the receiving service verified itself.
 * Through an API token, `sessionId` is the token's id (revoking it rides the sessions' path) and
 * `token` says which token and what its scopes allow.
 */
export interface Caller {
  userId: string;
  sessionId: string;
  token?: CallerApiToken;
}

export interface CallerApiToken {
  id: string;
  name: string;
  scopes: readonly ApiTokenScope[];
}

/**
 * A request over NATS. The caller's identity travels as their access token, which the receiving
 * service verifies against the auth service's keys: nothing on the bus can claim to be someone by
 * naming them. Calls without a token are the internal ones, allowed only to the services whose NATS
 * permissions let them publish to that subject.
 */
export const RpcRequestSchema = Type.Object({
  requestId: Type.String({ minLength: 1, maxLength: 128 }),
  token: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  input: Type.Unknown(),
});
export type RpcRequest = Static<typeof RpcRequestSchema>;

export type RpcReply =
  | { ok: true; status: number; body: unknown }
  | ({ ok: false } & ErrorBody);

/**
 * `fresh`: read from the stream rather than from memory, for a caller reacting to an access
 * event it has just read, which the docs service's memory may not hold yet.
 */
export const AccessInput = Type.Object({ docId: Id, userId: Id, fresh: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
export type AccessInput = Static<typeof AccessInput>;
export interface AccessResult {
  role: Static<typeof Role> | null;
  kind: Static<typeof DocKind> | null;
}

export const DocGetInput = Type.Object({ id: Id }, { additionalProperties: false });
export const HistoryListInput = Type.Object(
  {
    id: Id,
    after: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    author: Type.Optional(Type.String({ pattern: SAFE_ID_PATTERN })),
    from: Type.Optional(Type.String({ format: "date-time" })),
    to: Type.Optional(Type.String({ format: "date-time" })),
  },
  { additionalProperties: false },
);
export type HistoryListInput = Static<typeof HistoryListInput>;

export interface ReadyResult {
  service: string;
  ready: boolean;
  checks: Record<string, boolean>;
}

/** Access-token claims beyond the registered ones. */
export interface AccessClaims {
  sub: string;
  sid: string;
  name: string;
}

/* ---- API tokens ---- */

/**
 * API tokens read `pal_<tokenId>_<secret>`: the prefix tells them from a JWT at a glance (and to
 * secret scanners), the id finds the stored hash, the secret (256 random bits, base64url) proves it.
 */
export const API_TOKEN_PREFIX = "pal_";
const API_TOKEN_PATTERN = /^pal_([A-Za-z0-9-]{1,64})_([A-Za-z0-9_-]{43})$/;

export function isApiToken(token: string): boolean {
  return token.startsWith(API_TOKEN_PREFIX);
}

/** The id and secret of a well-formed API token; null for anything else. */
export function parseApiToken(token: string): { tokenId: string; secret: string } | null {
  const m = API_TOKEN_PATTERN.exec(token);
  return m?.[1] && m[2] ? { tokenId: m[1], secret: m[2] } : null;
}

export function formatApiToken(tokenId: string, secret: string): string {
  return `${API_TOKEN_PREFIX}${tokenId}_${secret}`;
}

/** The longest an API token may live, so a forgotten one ends on its own. */
export const API_TOKEN_MAX_LIFETIME_MS = 366 * 86_400_000;

/** `POST /api/auth/tokens`. */
export const CreateApiTokenBody = Type.Object(
  { name: ApiTokenName, scopes: ApiTokenScopeList, expiresAt: Type.Optional(Type.String({ format: "date-time", minLength: 20, maxLength: 40 })) },
  { additionalProperties: false },
);
export type CreateApiTokenBody = Static<typeof CreateApiTokenBody>;
export const ApiTokenIdParams = Type.Object({ id: Id }, { additionalProperties: false });

/** An API token as listed: never its secret. */
export interface ApiTokenView {
  id: string;
  name: string;
  scopes: ApiTokenScope[];
  createdAt: string;
  expiresAt: string | null;
  /** About to the minute: use is recorded at most once a minute. */
  lastUsedAt: string | null;
}

/** The answer to its creation: the only time the token itself is shown. */
export interface CreatedApiToken extends ApiTokenView {
  token: string;
}

export const ResolveApiTokenInput = Type.Object({ token: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false });

/** What a service learns of a valid API token from the auth service; checked on arrival, as any answer from the bus. */
export const ResolvedApiToken = Type.Object(
  {
    tokenId: Type.String({ pattern: SAFE_ID_PATTERN }),
    userId: Type.String({ pattern: SAFE_ID_PATTERN }),
    /** The owner's name, as an access token carries it. */
    userName: Type.String({ maxLength: 200 }),
    name: ApiTokenName,
    scopes: ApiTokenScopeList,
    createdAt: Type.String({ format: "date-time" }),
    expiresAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  },
  { additionalProperties: false },
);
export type ResolvedApiToken = Static<typeof ResolvedApiToken>;
