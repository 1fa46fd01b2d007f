import type { TSchema } from "@sinclair/typebox";
import type { SessionStep } from "./session-cookies.ts";
import {
  AcceptInvitationBody,
  ApiTokenIdParams,
  CreateApiTokenBody,
  CommentIdParams,
  MarkReadBody,
  NotificationSettings,
  NotificationsQuery,
  CommentsQuery,
  CreateCommentBody,
  ReplyBody,
  UpdateCommentBody,
  ChangePasswordBody,
  ConfirmRegistrationBody,
  CreateDocBody,
  EmptyBody,
  ForgotPasswordBody,
  ResetPasswordBody,
  DocIdParams,
  HistoryQuery,
  InvitationBody,
  ListDocsQuery,
  SearchQuery,
  LoginBody,
  LogoutBody,
  MemberParams,
  RefreshRequestBody,
  RegisterBody,
  RenameDocBody,
  RoleBody,
  ShareBody,
  TransferBody,
  TrashQuery,
  FileDownloadQuery,
  FileIdParams,
  PresignUploadBody,
  DiffQuery,
  ExportQuery,
  IMPORT_MAX_BYTES,
  IMPORT_MEDIA_TYPES,
  ImportQuery,
  NameVersionBody,
  RestoreBody,
  VersionAtQuery,
  VersionParams,
  RegisterWebhookBody,
  ReplayWebhookBody,
  WebhookDeliveriesQuery,
  WebhookIdParams,
  MoveDocBody,
  CreateWorkspaceBody,
  RenameWorkspaceBody,
  AddWorkspaceMemberBody,
  WorkspaceRoleBody,
  CancelWorkspaceInvitationBody,
  rpc,
} from "@palimpsest/contracts";

export interface RouteRequest {
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

const header = (r: RouteRequest, name: string): string | undefined => {
  const v = r.headers[name];
  return typeof v === "string" && v.length > 0 ? v : undefined;
};

/** `Idempotency-Key` makes a retried command store once; `If-Match: "<version>"` makes it conditional. */
function commandInput(r: RouteRequest, extra: { userId?: unknown } = {}) {
  const key = header(r, "idempotency-key");
  const ifMatch = header(r, "if-match")?.replace(/^W\//, "").replace(/"/g, "");
  const expectedVersion = ifMatch !== undefined && /^\d+$/.test(ifMatch) ? Number(ifMatch) : undefined;
  return {
    id: r.params["id"],
    ...(extra.userId !== undefined ? { userId: extra.userId } : {}),
    ...(r.body !== undefined && r.body !== null ? { body: r.body } : {}),
    ...(key ? { idempotencyKey: key } : {}),
    ...(expectedVersion !== undefined ? { expectedVersion } : {}),
  };
}

/** A command on one comment or workspace: its id, the body, and an idempotency key (and the member it is about). */
function commentInput(r: RouteRequest, extra: { userId?: unknown } = {}) {
  const key = header(r, "idempotency-key");
  return {
    id: r.params["id"],
    ...(extra.userId !== undefined ? { userId: extra.userId } : {}),
    ...(r.body !== undefined && r.body !== null ? { body: r.body } : {}),
    ...(key ? { idempotencyKey: key } : {}),
  };
}

/**
 * The public REST API, each route mapped to the service call behind it. The gateway validates
 * what it can (schemas), authenticates (`auth: true`), and forwards the input; the service
 * validates again and decides.
 */
export interface ApiRoute {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  url: string;
  subject: string;
  auth: boolean;
  summary: string;
  schema: { body?: TSchema; params?: TSchema; querystring?: TSchema };
  input(req: RouteRequest): unknown;
  /**
   * The service answers in pages `{chunk, nextCursor}` (see AuditPage); the gateway streams them
   * as one NDJSON response, passing `cursor` back in the input for each next page.
   */
  ndjsonPages?: boolean;
  /** The service answers an ExportedFile; the gateway sends it as a download of that name and type. */
  download?: boolean;
  /**
   * The body is a file, not JSON: taken as bytes of these media types up to `maxBytes`, and
   * passed to `input` as a Buffer.
   */
  rawBody?: { mediaTypes: readonly string[]; maxBytes: number };
  /** A sign-in: the account it tries (its email), for the per-account lockout. */
  signInAccount?(body: unknown): string | undefined;
  /** The route starts, rotates or ends a session: the refresh token may travel as a cookie (see session-cookies.ts). */
  session?: SessionStep;
  /**
   * About the account itself (its sessions, API tokens, password, invitations): only a person
   * signed in may call it; an API token is refused here (API_TOKEN_NOT_ALLOWED), and by the service.
   */
  sessionOnly?: boolean;
}

export const apiRoutes: ApiRoute[] = [
  {
    method: "POST", url: "/api/auth/register", subject: rpc.auth.register, auth: false, summary: "create an account and sign in; where registration is confirmed by email, 202 alike for new and taken addresses, and the rest by emailed link",
    schema: { body: RegisterBody }, input: (r) => r.body, session: "issue",
  },
  {
    method: "POST", url: "/api/auth/register/confirm", subject: rpc.auth.confirmRegistration, auth: false,
    summary: "open the emailed registration link: creates the account and signs in, once (404 where registration is not confirmed by email)",
    schema: { body: ConfirmRegistrationBody }, input: (r) => r.body, session: "issue",
  },
  {
    method: "POST", url: "/api/auth/login", subject: rpc.auth.login, auth: false, summary: "sign in",
    schema: { body: LoginBody }, input: (r) => r.body, session: "issue", signInAccount: (body) => (body as LoginBody).email,
  },
  {
    method: "POST", url: "/api/auth/refresh", subject: rpc.auth.refresh, auth: false, summary: "exchange a refresh token (in the body, or the session cookie with X-CSRF: 1) for a new pair",
    schema: { body: RefreshRequestBody }, input: (r) => r.body, session: "rotate",
  },
  {
    method: "POST", url: "/api/auth/logout", subject: rpc.auth.logout, auth: true, sessionOnly: true, summary: "end this session",
    schema: { body: LogoutBody }, input: (r) => r.body ?? {}, session: "end",
  },
  {
    method: "GET", url: "/api/auth/me", subject: rpc.auth.me, auth: true, summary: "the signed-in user",
    schema: {}, input: () => ({}),
  },
  {
    method: "POST", url: "/api/auth/logout-everywhere", subject: rpc.auth.logoutEverywhere, auth: true, sessionOnly: true,
    summary: "end every session of mine, this one included; access tokens already issued stop working",
    schema: { body: EmptyBody }, input: (r) => r.body ?? {},
  },
  {
    method: "POST", url: "/api/auth/password", subject: rpc.auth.changePassword, auth: true, sessionOnly: true,
    summary: "change my password (needs the current one); ends my other sessions",
    schema: { body: ChangePasswordBody }, input: (r) => r.body,
  },
  {
    method: "POST", url: "/api/auth/password/forgot", subject: rpc.auth.forgotPassword, auth: false,
    summary: "email a single-use reset link; answers 202 whether or not an account has that email",
    schema: { body: ForgotPasswordBody }, input: (r) => r.body,
  },
  {
    method: "POST", url: "/api/auth/password/reset", subject: rpc.auth.resetPassword, auth: false,
    summary: "set a new password with the emailed link's token; ends every session of the account",
    schema: { body: ResetPasswordBody }, input: (r) => r.body,
  },
  {
    method: "GET", url: "/api/auth/tokens", subject: rpc.auth.listApiTokens, auth: true, sessionOnly: true,
    summary: "my API tokens (never their secrets): name, scopes, expiry, last used",
    schema: {}, input: () => ({}),
  },
  {
    method: "POST", url: "/api/auth/tokens", subject: rpc.auth.createApiToken, auth: true, sessionOnly: true,
    summary: "make an API token for a bot or script {name, scopes: read|comment|write, expiresAt?}; the token is in this answer only",
    schema: { body: CreateApiTokenBody }, input: (r) => r.body,
  },
  {
    method: "DELETE", url: "/api/auth/tokens/:id", subject: rpc.auth.revokeApiToken, auth: true, sessionOnly: true,
    summary: "revoke one of my API tokens: it is refused everywhere at once, and its live connections close",
    schema: { params: ApiTokenIdParams }, input: (r) => ({ id: r.params["id"] }),
  },
  {
    method: "POST", url: "/api/invitations/accept", subject: rpc.docs.acceptInvitation, auth: true, sessionOnly: true,
    summary: "accept an emailed invitation (to a document or a workspace) with its link's token: I become a member with the invited role",
    schema: { body: AcceptInvitationBody }, input: (r) => r.body,
  },
  {
    method: "POST", url: "/api/docs", subject: rpc.docs.create, auth: true, summary: "create a document or board",
    schema: { body: CreateDocBody },
    input: (r) => ({ body: r.body, ...(header(r, "idempotency-key") ? { idempotencyKey: header(r, "idempotency-key") } : {}) }),
  },
  {
    method: "GET", url: "/api/docs", subject: rpc.docs.list, auth: true, summary: "documents I own or that are shared with me",
    schema: { querystring: ListDocsQuery }, input: (r) => r.query,
  },
  {
    method: "POST", url: "/api/docs/:id/move", subject: rpc.docs.move, auth: true,
    summary: "move into a workspace where I may add documents {workspaceId}, or out of one to its owner's own documents {workspaceId: null} (owner, or a workspace owner or admin); 204 when I can no longer see it there",
    schema: { params: DocIdParams, body: MoveDocBody }, input: (r) => commandInput(r),
  },
  {
    method: "GET", url: "/api/workspaces", subject: rpc.docs.workspaces, auth: true, sessionOnly: true, summary: "the workspaces I belong to, with my role in each",
    schema: {}, input: () => ({}),
  },
  {
    method: "POST", url: "/api/workspaces", subject: rpc.docs.createWorkspace, auth: true, sessionOnly: true, summary: "make a workspace {name}; I am its owner",
    schema: { body: CreateWorkspaceBody }, input: (r) => ({ body: r.body, ...(header(r, "idempotency-key") ? { idempotencyKey: header(r, "idempotency-key") } : {}) }),
  },
  {
    method: "GET", url: "/api/workspaces/:id", subject: rpc.docs.workspace, auth: true, sessionOnly: true, summary: "one workspace with my role",
    schema: { params: DocIdParams }, input: (r) => ({ id: r.params["id"] }),
  },
  {
    method: "PATCH", url: "/api/workspaces/:id", subject: rpc.docs.renameWorkspace, auth: true, sessionOnly: true, summary: "rename (owner, admin)",
    schema: { params: DocIdParams, body: RenameWorkspaceBody }, input: (r) => commentInput(r),
  },
  {
    method: "DELETE", url: "/api/workspaces/:id", subject: rpc.docs.deleteWorkspace, auth: true, sessionOnly: true,
    summary: "delete (owner) once it holds no documents outside the trash; what is in its trash goes back to its owners",
    schema: { params: DocIdParams }, input: (r) => commentInput({ ...r, body: undefined }),
  },
  {
    method: "GET", url: "/api/workspaces/:id/members", subject: rpc.docs.workspaceMembers, auth: true, sessionOnly: true, summary: "its members and their roles",
    schema: { params: DocIdParams }, input: (r) => ({ id: r.params["id"] }),
  },
  {
    method: "POST", url: "/api/workspaces/:id/members", subject: rpc.docs.addWorkspaceMember, auth: true, sessionOnly: true,
    summary: "add someone by email {email, role: owner|admin|member|guest|auditor} (owner, admin; only owners make owners); an email without an account is emailed a single-use invitation link",
    schema: { params: DocIdParams, body: AddWorkspaceMemberBody }, input: (r) => commentInput(r),
  },
  {
    method: "PATCH", url: "/api/workspaces/:id/members/:userId", subject: rpc.docs.changeWorkspaceRole, auth: true, sessionOnly: true,
    summary: "change a member's role (owner, admin; only owners make or unmake owners; a workspace keeps an owner)",
    schema: { params: MemberParams, body: WorkspaceRoleBody }, input: (r) => commentInput(r, { userId: r.params["userId"] }),
  },
  {
    method: "DELETE", url: "/api/workspaces/:id/members/:userId", subject: rpc.docs.removeWorkspaceMember, auth: true, sessionOnly: true,
    summary: "remove a member (owner, admin), or leave when it is me; access through the workspace ends at once, on every route and /collab",
    schema: { params: MemberParams }, input: (r) => commentInput({ ...r, body: undefined }, { userId: r.params["userId"] }),
  },
  {
    method: "GET", url: "/api/workspaces/:id/export", subject: rpc.history.exportWorkspace, auth: true, sessionOnly: true,
    summary: "the whole workspace as one NDJSON archive (owner, admin, auditor): a header line with its members, then one line per document with its archive (each importable with POST /api/docs/import?format=archive)",
    schema: { params: DocIdParams }, input: (r) => ({ id: r.params["id"] }), ndjsonPages: true,
  },
  {
    method: "GET", url: "/api/workspaces/:id/audit", subject: rpc.history.workspaceAudit, auth: true, sessionOnly: true,
    summary: "the workspace's hash-chained audit trail as NDJSON (owner, admin, auditor): its events and its members' account, session and API-token events (secrets redacted), with a signed checkpoint; verifiable offline with `npm run audit -- verify`",
    schema: { params: DocIdParams }, input: (r) => ({ id: r.params["id"] }), ndjsonPages: true,
  },
  {
    method: "POST", url: "/api/workspaces/:id/invitations/cancel", subject: rpc.docs.cancelWorkspaceInvitation, auth: true, sessionOnly: true,
    summary: "cancel a pending invitation {email} (owner, admin); its link stops working",
    schema: { params: DocIdParams, body: CancelWorkspaceInvitationBody }, input: (r) => commentInput(r),
  },
  {
    method: "GET", url: "/api/search", subject: rpc.docs.search, auth: true,
    summary: "full-text search over the titles and content I may read: {items: [{docId, title, kind, snippet, score}]}, best first; snippets are escaped HTML with <mark> around the matches; workspaceId narrows to one workspace (`personal`: those in none)",
    schema: { querystring: SearchQuery }, input: (r) => r.query,
  },
  {
    method: "GET", url: "/api/docs/:id", subject: rpc.docs.get, auth: true, summary: "one document with my role",
    schema: { params: DocIdParams }, input: (r) => ({ id: r.params["id"] }),
  },
  {
    method: "PATCH", url: "/api/docs/:id", subject: rpc.docs.rename, auth: true, summary: "rename (owner, editor)",
    schema: { params: DocIdParams, body: RenameDocBody }, input: (r) => commandInput(r),
  },
  {
    method: "DELETE", url: "/api/docs/:id", subject: rpc.docs.trash, auth: true,
    summary: "move to the trash (owner); restorable. `?purge=true` empties it from the trash for good and deletes its files",
    schema: { params: DocIdParams, querystring: TrashQuery },
    input: (r) => commandInput({ ...r, body: r.query["purge"] === true ? { purge: true } : undefined }),
  },
  {
    method: "POST", url: "/api/docs/:id/untrash", subject: rpc.docs.untrash, auth: true, summary: "restore from the trash (owner)",
    schema: { params: DocIdParams }, input: (r) => commandInput({ ...r, body: undefined }),
  },
  {
    method: "GET", url: "/api/docs/:id/members", subject: rpc.docs.members, auth: true, summary: "members, and pending invitations for those who may share (owner, editor)",
    schema: { params: DocIdParams }, input: (r) => ({ id: r.params["id"] }),
  },
  {
    method: "POST", url: "/api/docs/:id/members", subject: rpc.docs.share, auth: true,
    summary: "share by email with a role (owner, editor); an email without an account is emailed a single-use invitation link",
    schema: { params: DocIdParams, body: ShareBody }, input: (r) => commandInput(r),
  },
  {
    method: "PATCH", url: "/api/docs/:id/members/:userId", subject: rpc.docs.changeRole, auth: true, summary: "change a member's role (owner)",
    schema: { params: MemberParams, body: RoleBody }, input: (r) => commandInput(r, { userId: r.params["userId"] }),
  },
  {
    method: "DELETE", url: "/api/docs/:id/members/:userId", subject: rpc.docs.removeMember, auth: true,
    summary: "remove a member (owner), or leave when it is me",
    schema: { params: MemberParams }, input: (r) => commandInput({ ...r, body: undefined }, { userId: r.params["userId"] }),
  },
  {
    method: "POST", url: "/api/docs/:id/invitations/cancel", subject: rpc.docs.cancelInvitation, auth: true, summary: "cancel a pending invitation",
    schema: { params: DocIdParams, body: InvitationBody }, input: (r) => commandInput(r),
  },
  {
    method: "POST", url: "/api/docs/:id/leave", subject: rpc.docs.leave, auth: true, summary: "leave a document shared with me",
    schema: { params: DocIdParams }, input: (r) => commandInput({ ...r, body: undefined }),
  },
  {
    method: "POST", url: "/api/docs/:id/transfer", subject: rpc.docs.transfer, auth: true, summary: "make another member the owner (owner)",
    schema: { params: DocIdParams, body: TransferBody }, input: (r) => commandInput(r),
  },
  {
    method: "GET", url: "/api/docs/:id/activity", subject: rpc.history.activity, auth: true, summary: "who did what: metadata events and editing sessions",
    schema: { params: DocIdParams, querystring: HistoryQuery }, input: (r) => ({ ...r.query, id: r.params["id"] }),
  },
  {
    method: "POST", url: "/api/docs/:id/versions", subject: rpc.docs.nameVersion, auth: true,
    summary: "name a version (the current one when seq is left out) (owner, editor)",
    schema: { params: DocIdParams, body: NameVersionBody }, input: (r) => commandInput(r),
  },
  {
    method: "GET", url: "/api/docs/:id/versions", subject: rpc.docs.versions, auth: true, summary: "named versions, newest first",
    schema: { params: DocIdParams }, input: (r) => ({ id: r.params["id"] }),
  },
  {
    method: "GET", url: "/api/docs/:id/comments", subject: rpc.docs.comments, auth: true, summary: "comment threads, oldest first (?status=open|resolved|all)",
    schema: { params: DocIdParams, querystring: CommentsQuery }, input: (r) => ({ ...r.query, id: r.params["id"] }),
  },
  {
    method: "POST", url: "/api/docs/:id/comments", subject: rpc.docs.addComment, auth: true,
    summary: "start a thread on a range of the text, a card or the whole document (owner, editor, commenter)",
    schema: { params: DocIdParams, body: CreateCommentBody }, input: (r) => commandInput(r),
  },
  {
    method: "GET", url: "/api/notifications", subject: rpc.docs.notifications, auth: true, sessionOnly: true,
    summary: "my notifications, newest first (?unread=true): mentions, replies to my threads, documents shared with me",
    schema: { querystring: NotificationsQuery }, input: (r) => r.query,
  },
  {
    method: "POST", url: "/api/notifications/read", subject: rpc.docs.markRead, auth: true, sessionOnly: true, summary: "mark my notifications read: {ids} or {all: true}",
    schema: { body: MarkReadBody }, input: (r) => r.body,
  },
  {
    method: "GET", url: "/api/notifications/settings", subject: rpc.docs.notificationSettings, auth: true, sessionOnly: true,
    summary: "which of my notifications also come by email: {email: all | mentions | none}", schema: {}, input: () => ({}),
  },
  {
    method: "PATCH", url: "/api/notifications/settings", subject: rpc.docs.setNotificationSettings, auth: true, sessionOnly: true,
    summary: "choose which of my notifications also come by email (batched: at most one mail per few minutes)",
    schema: { body: NotificationSettings }, input: (r) => r.body,
  },
  {
    method: "POST", url: "/api/comments/:id/replies", subject: rpc.docs.reply, auth: true, summary: "reply in a comment's thread (owner, editor, commenter)",
    schema: { params: CommentIdParams, body: ReplyBody }, input: (r) => commentInput(r),
  },
  {
    method: "PATCH", url: "/api/comments/:id", subject: rpc.docs.updateComment, auth: true,
    summary: "change your own comment's text, or resolve or reopen its thread (owner, editor, commenter)",
    schema: { params: CommentIdParams, body: UpdateCommentBody }, input: (r) => commentInput(r),
  },
  {
    method: "DELETE", url: "/api/comments/:id", subject: rpc.docs.deleteComment, auth: true,
    summary: "delete your own comment (the owner: any); a thread goes with its first comment",
    schema: { params: CommentIdParams }, input: (r) => commentInput({ ...r, body: undefined }),
  },
  {
    method: "GET", url: "/api/docs/:id/webhooks", subject: rpc.docs.webhooks, auth: true, sessionOnly: true, summary: "the document's webhooks, without their secrets (owner)",
    schema: { params: DocIdParams }, input: (r) => ({ id: r.params["id"] }),
  },
  {
    method: "POST", url: "/api/docs/:id/webhooks", subject: rpc.docs.registerWebhook, auth: true, sessionOnly: true,
    summary: "send the document's events {events} to an http(s) endpoint {url}, signed the Standard Webhooks way; answers the signing secret, once (owner)",
    schema: { params: DocIdParams, body: RegisterWebhookBody }, input: (r) => commandInput(r),
  },
  {
    method: "DELETE", url: "/api/webhooks/:id", subject: rpc.docs.deleteWebhook, auth: true, sessionOnly: true, summary: "stop sending to a webhook and forget it (owner)",
    schema: { params: WebhookIdParams }, input: (r) => ({ id: r.params["id"] }),
  },
  {
    method: "GET", url: "/api/webhooks/:id/deliveries", subject: rpc.docs.webhookDeliveries, auth: true, sessionOnly: true,
    summary: "a webhook's deliveries, newest first, each with its attempts (status code, error, duration, time) (owner; ?cursor=&limit=)",
    schema: { params: WebhookIdParams, querystring: WebhookDeliveriesQuery }, input: (r) => ({ ...r.query, id: r.params["id"] }),
  },
  {
    method: "POST", url: "/api/webhooks/:id/replay", subject: rpc.docs.replayWebhook, auth: true, sessionOnly: true,
    summary: "send deliveries again with their own webhook-id: {from: a delivery id or an ISO time}, or by default those that failed; turns a disabled webhook on again (owner)",
    schema: { params: WebhookIdParams, body: ReplayWebhookBody }, input: (r) => ({ id: r.params["id"], body: r.body ?? {} }),
  },
  {
    method: "GET", url: "/api/docs/:id/versions/at", subject: rpc.history.version, auth: true,
    summary: "the document as it was at a time (?at=ISO time): text, Markdown, board, Yjs state",
    schema: { params: DocIdParams, querystring: VersionAtQuery }, input: (r) => ({ id: r.params["id"], at: r.query["at"] }),
  },
  {
    method: "GET", url: "/api/docs/:id/versions/:seq", subject: rpc.history.version, auth: true,
    summary: "the document as it was after edit seq: text, Markdown, board, Yjs state",
    schema: { params: VersionParams }, input: (r) => ({ id: r.params["id"], seq: r.params["seq"] }),
  },
  {
    method: "POST", url: "/api/docs/:id/restore", subject: rpc.history.restore, auth: true,
    summary: "make the document equal version seq again, as a new edit by me (owner, editor); history keeps everything",
    schema: { params: DocIdParams, body: RestoreBody }, input: (r) => ({ id: r.params["id"], seq: (r.body as { seq: number }).seq }),
  },
  {
    method: "GET", url: "/api/docs/:id/diff", subject: rpc.history.diff, auth: true,
    summary: "what changed between versions from and to, each inserted or deleted run with its author",
    schema: { params: DocIdParams, querystring: DiffQuery }, input: (r) => ({ id: r.params["id"], from: r.query["from"], to: r.query["to"] }),
  },
  {
    method: "GET", url: "/api/docs/:id/history", subject: rpc.history.list, auth: true, summary: "the document's edit events",
    schema: { params: DocIdParams, querystring: HistoryQuery }, input: (r) => ({ ...r.query, id: r.params["id"] }),
  },
  {
    method: "GET", url: "/api/docs/:id/audit", subject: rpc.history.audit, auth: true,
    summary: "the whole hash-chained trail (edits and metadata events) as NDJSON, verifiable offline with `npm run audit -- verify`",
    schema: { params: DocIdParams }, input: (r) => ({ id: r.params["id"] }), ndjsonPages: true,
  },
  {
    method: "GET", url: "/api/docs/:id/export", subject: rpc.history.export, auth: true,
    summary: "the document now as a download (anyone who may read it): `md` Markdown, `html` an HTML page, `archive` JSON with its title, comments and Yjs state",
    schema: { params: DocIdParams, querystring: ExportQuery }, input: (r) => ({ id: r.params["id"], format: r.query["format"] }), download: true,
  },
  {
    method: "POST", url: "/api/docs/import", subject: rpc.history.import, auth: true,
    summary:
      "a new document of mine from a file sent as the body (at most 5 MiB): `md`, `html` (sanitized) or an `archive` from export, whose comments come back as mine; " +
      "`title` names it (by default the archive's or the first heading); `workspaceId` is refused until workspaces exist",
    schema: { querystring: ImportQuery },
    input: (r) => ({ ...r.query, content: Buffer.isBuffer(r.body) ? r.body.toString("base64") : "" }),
    rawBody: { mediaTypes: IMPORT_MEDIA_TYPES, maxBytes: IMPORT_MAX_BYTES },
  },
  {
    method: "GET", url: "/api/docs/:id/files", subject: rpc.files.list, auth: true, summary: "the document's attachments, newest first (any member)",
    schema: { params: DocIdParams }, input: (r) => ({ id: r.params["id"] }),
  },
  {
    method: "POST", url: "/api/files/:id/complete", subject: rpc.files.complete, auth: true,
    summary: "confirm a presigned upload once its PUT succeeded: its size and real type are checked and it is recorded, or deleted and refused",
    schema: { params: FileIdParams }, input: (r) => ({ id: r.params["id"] }),
  },
  {
    method: "DELETE", url: "/api/files/:id", subject: rpc.files.remove, auth: true, summary: "delete an attachment (owner, editor)",
    schema: { params: FileIdParams }, input: (r) => ({ id: r.params["id"] }),
  },
];

/**
 * Routes whose bodies are bytes: the gateway authenticates and rate-limits them like the others,
 * then streams the request and the answer between the client and a files replica over HTTP.
 */
export interface ProxiedRoute {
  method: "GET" | "POST";
  url: string;
  summary: string;
  schema: { params: TSchema; querystring?: TSchema; body?: TSchema };
  /** Request bodies the route takes, by media type, for the OpenAPI document. */
  bodies?: Record<string, TSchema | { type: "object"; properties: Record<string, unknown> }>;
  /** What a success answers with, by media type. */
  answers: string[];
}

export const proxiedRoutes: ProxiedRoute[] = [
  {
    method: "POST", url: "/api/docs/:id/files",
    summary:
      "attach a file (owner, editor): multipart/form-data with a `file` part (and optionally a `name` field) is streamed through the service; " +
      "JSON {name, size, contentType} answers {fileId, uploadUrl, headers, expiresAt, completeUrl} for a presigned PUT, then POST completeUrl",
    schema: { params: DocIdParams },
    bodies: {
      "multipart/form-data": { type: "object", properties: { file: { type: "string", format: "binary" }, name: { type: "string" } } },
      "application/json": PresignUploadBody,
    },
    answers: ["application/json"],
  },
  {
    method: "GET", url: "/api/files/:id",
    summary: "the file's bytes (any member), streamed with its type, name and ETag; `?redirect=true` answers 302 to a short-lived presigned URL; `?download=true` to save it",
    schema: { params: FileIdParams, querystring: FileDownloadQuery },
    answers: ["application/octet-stream"],
  },
  {
    method: "GET", url: "/api/files/:id/thumbnail",
    summary: "an image's thumbnail (WebP, any member) once the file's `thumbnail` is `ready`; same options as the file",
    schema: { params: FileIdParams, querystring: FileDownloadQuery },
    answers: ["image/webp"],
  },
];
