// Typed calls to the REST API. Authorised calls carry the access token and, on a 401,
// rotate the tokens once and retry; if that fails the session ends and the app shows the
// sign-in screen with an explanation.

import { endSession, freshAccessToken, refreshSession, SESSION_EXPIRED_MESSAGE } from "../auth/session";
import { ApiError, sendJson } from "./http";
import type { HttpRequest } from "./http";
import type {
  ActivityItem,
  ApiToken,
  ApiTokenScope,
  CreatedApiToken,
  Comment,
  CommentAnchor,
  CommentList,
  CommentThread,
  NotificationList,
  NotificationSettings,
  RegistrationPending,
  SessionGrant,
  DiffView,
  DocKind,
  DocRole,
  DocSummary,
  HistoryEvent,
  Members,
  NamedVersion,
  Page,
  SearchResults,
  RestoreResult,
  User,
  VersionView,
  RegisteredWebhook,
  WebhookDeliveryList,
  WebhookEventType,
  WebhookList,
  WebhookReplayResult,
  Workspace,
  WorkspaceMembers,
  WorkspaceRole,
} from "./types";

type AuthorizedRequest = Omit<HttpRequest, "accessToken">;

/**
 * Runs `request` with a fresh access token; on a 401 rotates the tokens once and runs it again.
 * For calls that cannot go through sendJson (uploads with progress, downloads of bytes) too, so
 * every request renews the session the same way.
 */
export async function withAccessToken<T>(request: (token: string) => Promise<T>): Promise<T> {
  const token = await freshAccessToken();
  if (!token) throw new ApiError(401, "UNAUTHENTICATED", "Please sign in.");
  try {
    return await request(token);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err;
  }

  const rotated = await refreshSession(token);
  if (!rotated) throw new ApiError(401, "SESSION_EXPIRED", SESSION_EXPIRED_MESSAGE);
  try {
    return await request(rotated);
  } catch (err) {
    // A brand-new token was refused too: the session is unusable, so start over cleanly.
    if (err instanceof ApiError && err.status === 401) {
      endSession(SESSION_EXPIRED_MESSAGE);
      throw new ApiError(401, "SESSION_EXPIRED", SESSION_EXPIRED_MESSAGE);
    }
    throw err;
  }
}

function authorized<T>(request: AuthorizedRequest): Promise<T> {
  return withAccessToken((accessToken) => sendJson<T>({ ...request, accessToken }));
}

function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text === "" ? "" : `?${text}`;
}

/** The refresh token goes into an HttpOnly cookie instead of the answer's body. */
const COOKIE_TRANSPORT = { "X-Session-Transport": "cookie" };

const docPath = (id: string): string => `/api/docs/${encodeURIComponent(id)}`;
const workspacePath = (id: string): string => `/api/workspaces/${encodeURIComponent(id)}`;

export interface ListDocsParams {
  q?: string;
  limit?: number;
  cursor?: string | null;
  /** List my documents in the trash instead. */
  trashed?: boolean;
  /** Only one workspace's documents; PERSONAL_DOCUMENTS for those in none. */
  workspaceId?: string;
}

export interface HistoryParams {
  after?: number;
  limit?: number;
  /** Only edits by this user. */
  author?: string;
  /** Only edits at or after `from` and before `to` (ISO times). */
  from?: string;
  to?: string;
}

/** Roles that can be given by sharing; ownership moves by a transfer instead. */
export type ShareRole = Exclude<DocRole, "owner">;

export const api = {
  auth: {
    /** Signs in at once, or (where the address is confirmed by email) answers that a link is on its way. */
    register: (input: { email: string; password: string; name: string }): Promise<SessionGrant | RegistrationPending> =>
      sendJson({ method: "POST", path: "/api/auth/register", headers: COOKIE_TRANSPORT, body: input }),

    /** Opens the emailed registration link: the account is created and signed in. */
    confirmRegistration: (token: string): Promise<SessionGrant> =>
      sendJson({ method: "POST", path: "/api/auth/register/confirm", headers: COOKIE_TRANSPORT, body: { token } }),

    login: (input: { email: string; password: string }): Promise<SessionGrant> =>
      sendJson({ method: "POST", path: "/api/auth/login", headers: COOKIE_TRANSPORT, body: input }),

    /** Ends the session on the server; the gateway also clears the refresh cookie. */
    logout: (): Promise<void> => authorized({ method: "POST", path: "/api/auth/logout", body: {} }),

    me: (signal?: AbortSignal): Promise<{ user: User }> =>
      authorized({ method: "GET", path: "/api/auth/me", signal }),

    /** Ends every session of mine, this one included. */
    logoutEverywhere: (): Promise<void> => authorized({ method: "POST", path: "/api/auth/logout-everywhere", body: {} }),

    /** My API tokens for bots and scripts, newest first; never their secrets. */
    apiTokens: (signal?: AbortSignal): Promise<{ items: ApiToken[] }> => authorized({ method: "GET", path: "/api/auth/tokens", signal }),

    /** The answer holds the token itself, this once. */
    createApiToken: (input: { name: string; scopes: ApiTokenScope[]; expiresAt?: string }): Promise<CreatedApiToken> =>
      authorized({ method: "POST", path: "/api/auth/tokens", body: input }),

    revokeApiToken: (id: string): Promise<void> => authorized({ method: "DELETE", path: `/api/auth/tokens/${encodeURIComponent(id)}` }),

    /** Needs the current password; my other sessions end. */
    changePassword: (input: { currentPassword: string; newPassword: string }): Promise<void> =>
      authorized({ method: "POST", path: "/api/auth/password", body: input }),

    /** The answer is the same whether or not an account has the email. */
    forgotPassword: (email: string): Promise<{ message: string }> =>
      sendJson({ method: "POST", path: "/api/auth/password/forgot", body: { email } }),

    resetPassword: (input: { token: string; password: string }): Promise<void> =>
      sendJson({ method: "POST", path: "/api/auth/password/reset", body: input }),
  },

  invitations: {
    /** Accepts the invitation an emailed link names (to a document or a workspace); I become a member with its role. */
    accept: (token: string): Promise<{ docId: string; kind: DocKind; role: DocRole } | { workspaceId: string; role: WorkspaceRole }> =>
      authorized({ method: "POST", path: "/api/invitations/accept", body: { token } }),
  },

  docs: {
    /** Made in `workspaceId` (where I am an owner, admin or member), or among my own documents without it. */
    create: (input: { title: string; kind?: DocKind; workspaceId?: string }): Promise<DocSummary> =>
      authorized({ method: "POST", path: "/api/docs", body: input }),

    list: ({ trashed, ...params }: ListDocsParams = {}, signal?: AbortSignal): Promise<Page<DocSummary>> =>
      authorized({ method: "GET", path: `/api/docs${query({ ...params, trashed: trashed ? "true" : undefined })}`, signal }),

    get: (id: string, signal?: AbortSignal): Promise<DocSummary> =>
      authorized({ method: "GET", path: docPath(id), signal }),

    rename: (id: string, title: string): Promise<DocSummary> =>
      authorized({ method: "PATCH", path: docPath(id), body: { title } }),

    /** Moves the document to the owner's trash; restorable with `untrash`. */
    trash: (id: string): Promise<void> => authorized({ method: "DELETE", path: docPath(id) }),

    untrash: (id: string): Promise<DocSummary> => authorized({ method: "POST", path: `${docPath(id)}/untrash` }),

    /** Who did what, newest first: metadata events, comments, attachments and editing sessions. */
    activity: (id: string, signal?: AbortSignal): Promise<{ items: ActivityItem[] }> =>
      authorized({ method: "GET", path: `${docPath(id)}/activity`, signal }),

    history: (id: string, params: HistoryParams = {}, signal?: AbortSignal): Promise<Page<HistoryEvent>> =>
      authorized({ method: "GET", path: `${docPath(id)}/history${query({ ...params })}`, signal }),

    /**
     * Into a workspace, or (null) out of one to its owner's own documents. Answers the document,
     * or undefined (204) when I can no longer see it where it went.
     */
    move: (id: string, workspaceId: string | null): Promise<DocSummary | undefined> =>
      authorized({ method: "POST", path: `${docPath(id)}/move`, body: { workspaceId } }),
  },

  workspaces: {
    /** The workspaces I belong to, with my role in each. */
    list: (signal?: AbortSignal): Promise<{ items: Workspace[] }> => authorized({ method: "GET", path: "/api/workspaces", signal }),

    /** I become its owner. */
    create: (name: string): Promise<Workspace> => authorized({ method: "POST", path: "/api/workspaces", body: { name } }),

    get: (id: string, signal?: AbortSignal): Promise<Workspace> => authorized({ method: "GET", path: workspacePath(id), signal }),

    rename: (id: string, name: string): Promise<Workspace> => authorized({ method: "PATCH", path: workspacePath(id), body: { name } }),

    /** Refused (409) while it holds documents outside the trash. */
    remove: (id: string): Promise<void> => authorized({ method: "DELETE", path: workspacePath(id) }),

    members: (id: string, signal?: AbortSignal): Promise<WorkspaceMembers> =>
      authorized({ method: "GET", path: `${workspacePath(id)}/members`, signal }),

    /** Adds someone with an account (an email without one is invited, or refused, as the server decides); only owners make owners. */
    addMember: (id: string, input: { email: string; role: WorkspaceRole }): Promise<WorkspaceMembers> =>
      authorized({ method: "POST", path: `${workspacePath(id)}/members`, body: input }),

    changeRole: (id: string, userId: string, role: WorkspaceRole): Promise<WorkspaceMembers> =>
      authorized({ method: "PATCH", path: `${workspacePath(id)}/members/${encodeURIComponent(userId)}`, body: { role } }),

    /** Removes a member; removing myself leaves the workspace. */
    removeMember: (id: string, userId: string): Promise<void> =>
      authorized({ method: "DELETE", path: `${workspacePath(id)}/members/${encodeURIComponent(userId)}` }),

    cancelInvitation: (id: string, email: string): Promise<void> =>
      authorized({ method: "POST", path: `${workspacePath(id)}/invitations/cancel`, body: { email } }),
  },

  /** Titles and content of what I may read, best first; snippets are escaped HTML with `<mark>` (read them with snippetSegments). */
  search: (params: { q: string; limit?: number; workspaceId?: string }, signal?: AbortSignal): Promise<SearchResults> =>
    authorized({ method: "GET", path: `/api/search${query(params)}`, signal }),

  members: {
    list: (id: string, signal?: AbortSignal): Promise<Members> =>
      authorized({ method: "GET", path: `${docPath(id)}/members`, signal }),

    /** Shares with an account, or leaves a pending invitation for an email without one. */
    invite: (id: string, input: { email: string; role: ShareRole }): Promise<Members> =>
      authorized({ method: "POST", path: `${docPath(id)}/members`, body: input }),

    changeRole: (id: string, userId: string, role: ShareRole): Promise<Members> =>
      authorized({ method: "PATCH", path: `${docPath(id)}/members/${encodeURIComponent(userId)}`, body: { role } }),

    /** Removes a member; removing myself leaves the document. */
    remove: (id: string, userId: string): Promise<void> =>
      authorized({ method: "DELETE", path: `${docPath(id)}/members/${encodeURIComponent(userId)}` }),

    cancelInvitation: (id: string, email: string): Promise<void> =>
      authorized({ method: "POST", path: `${docPath(id)}/invitations/cancel`, body: { email } }),
  },

  comments: {
    list: (id: string, signal?: AbortSignal): Promise<CommentList> =>
      authorized({ method: "GET", path: `${docPath(id)}/comments`, signal }),

    /** Starts a thread on a range of the text, a card, or (without an anchor) the whole document. */
    create: (id: string, input: { body: string; anchor?: CommentAnchor; mentions?: string[] }): Promise<CommentThread> =>
      authorized({ method: "POST", path: `${docPath(id)}/comments`, body: input }),

    reply: (commentId: string, input: { body: string; mentions?: string[] }): Promise<Comment> =>
      authorized({ method: "POST", path: `/api/comments/${encodeURIComponent(commentId)}/replies`, body: input }),

    /** My own comment's new text, or the thread resolved or opened again. */
    update: (commentId: string, input: { body?: string; mentions?: string[]; resolved?: boolean }): Promise<CommentThread> =>
      authorized({ method: "PATCH", path: `/api/comments/${encodeURIComponent(commentId)}`, body: input }),

    remove: (commentId: string): Promise<void> => authorized({ method: "DELETE", path: `/api/comments/${encodeURIComponent(commentId)}` }),
  },

  webhooks: {
    list: (docId: string, signal?: AbortSignal): Promise<WebhookList> => authorized({ method: "GET", path: `${docPath(docId)}/webhooks`, signal }),

    /** The answer carries the signing secret: the only time it is shown. */
    create: (docId: string, input: { url: string; events: WebhookEventType[] }): Promise<RegisteredWebhook> =>
      authorized({ method: "POST", path: `${docPath(docId)}/webhooks`, body: input }),

    remove: (id: string): Promise<void> => authorized({ method: "DELETE", path: `/api/webhooks/${encodeURIComponent(id)}` }),

    deliveries: (id: string, signal?: AbortSignal): Promise<WebhookDeliveryList> =>
      authorized({ method: "GET", path: `/api/webhooks/${encodeURIComponent(id)}/deliveries?limit=10`, signal }),

    /** Sends again what failed (and turns a disabled webhook on again). */
    replay: (id: string): Promise<WebhookReplayResult> => authorized({ method: "POST", path: `/api/webhooks/${encodeURIComponent(id)}/replay`, body: {} }),
  },

  notifications: {
    list: (params: { unread?: boolean } = {}, signal?: AbortSignal): Promise<NotificationList> =>
      authorized({ method: "GET", path: `/api/notifications${query({ unread: params.unread ? "true" : undefined })}`, signal }),

    read: (input: { ids: string[] } | { all: true }): Promise<void> => authorized({ method: "POST", path: "/api/notifications/read", body: input }),

    settings: (signal?: AbortSignal): Promise<NotificationSettings> => authorized({ method: "GET", path: "/api/notifications/settings", signal }),

    /** Which notifications also come by email. */
    changeSettings: (input: NotificationSettings): Promise<NotificationSettings> => authorized({ method: "PATCH", path: "/api/notifications/settings", body: input }),
  },

  versions: {
    /** The document as it was after edit `seq`. */
    get: (id: string, seq: number, signal?: AbortSignal): Promise<VersionView> =>
      authorized({ method: "GET", path: `${docPath(id)}/versions/${seq}`, signal }),

    named: (id: string, signal?: AbortSignal): Promise<{ items: NamedVersion[] }> =>
      authorized({ method: "GET", path: `${docPath(id)}/versions`, signal }),

    /** Names version `seq`, or the current one when it is left out. */
    name: (id: string, name: string, seq?: number): Promise<{ items: NamedVersion[] }> =>
      authorized({ method: "POST", path: `${docPath(id)}/versions`, body: seq === undefined ? { name } : { name, seq } }),

    diff: (id: string, from: number, to: number, signal?: AbortSignal): Promise<DiffView> =>
      authorized({ method: "GET", path: `${docPath(id)}/diff${query({ from, to })}`, signal }),

    restore: (id: string, seq: number): Promise<RestoreResult> =>
      authorized({ method: "POST", path: `${docPath(id)}/restore`, body: { seq } }),
  },
};
