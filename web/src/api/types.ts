// Shapes of the public REST contract, defined once in the contracts package.
import type { AuthResult, DocView, MembersView, WorkspaceMembersView as WorkspaceMembers } from "@palimpsest/contracts/shared";

export type { DocKind, Page } from "@palimpsest/contracts/shared";
export type {
  AuthResult as AuthResponse,
  RegistrationPending,
  DocView as DocSummary,
  EditView as HistoryEvent,
  MemberView as Member,
  MembersView as Members,
  Role as DocRole,
  UserView as User,
} from "@palimpsest/contracts/shared";
/** What sign-in, sign-up and refresh give the web app: the refresh token stays in an HttpOnly cookie. */
export type SessionGrant = Omit<AuthResult, "refreshToken">;
export type Invitation = MembersView["invitations"][number];
/** What a document screen needs of a document, and what a device remembers to open it offline. */
export type DocMeta = Pick<DocView, "id" | "title" | "kind" | "role" | "ownerId" | "createdAt" | "updatedAt">;

// The shapes the history and files services answer with, defined once in the contracts package.
export type { DiffSegment, DiffView, FileView, NamedVersion, PresignedUpload, RestoreResult, ThumbnailState, VersionView } from "@palimpsest/contracts/shared";
export type { NotificationList, NotificationSettings, NotificationView } from "@palimpsest/contracts/shared";
export type { ActivityItem, CommentAnchor, CommentList, CommentThreadView as CommentThread, CommentView as Comment } from "@palimpsest/contracts/shared";
export type { ApiTokenScope, ApiTokenView as ApiToken, CreatedApiToken } from "@palimpsest/contracts/shared";
export type { SearchHit, SearchResults } from "@palimpsest/contracts/shared";
export type {
  RegisteredWebhook,
  WebhookDeliveryList,
  WebhookDeliveryView,
  WebhookEventType,
  WebhookList,
  WebhookReplayResult,
  WebhookView,
} from "@palimpsest/contracts/shared";
export type {
  WorkspaceMemberView as WorkspaceMember,
  WorkspaceMembersView as WorkspaceMembers,
  WorkspaceRole,
  WorkspaceView as Workspace,
} from "@palimpsest/contracts/shared";
/** Someone invited into a workspace by email who has no account yet (owners and admins see them). */
export type WorkspaceInvitation = WorkspaceMembers["invitations"][number];
