import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { ApiTokenScopes, Roles, WorkspaceRoles } from "./permissions.ts";
import { SAFE_ID_PATTERN } from "./ids.ts";
import { MAX_WEBHOOK_URL_LENGTH, WebhookEvents } from "./webhooks.ts";

/**
 * Every metadata event is defined once here: its versioned type name, its payload schema
 * and the TypeScript type derived from it. Stored events are the envelope below, as JSON.
 * A change to a payload's shape is a new version (`.v2`), never an edit of an old one.
 */
const Id = Type.String({ pattern: SAFE_ID_PATTERN });
const IsoTime = Type.String({ format: "date-time", minLength: 20, maxLength: 40 });
export const Role = Type.Union(Roles.map((role) => Type.Literal(role)));
export type Role = Static<typeof Role>;
/** An API token's scopes: at least one, each once. */
export const ApiTokenScopeList = Type.Array(Type.Union(ApiTokenScopes.map((scope) => Type.Literal(scope))), {
  minItems: 1,
  maxItems: ApiTokenScopes.length,
  uniqueItems: true,
});
/** An API token's name, as its owner chose it, shown in history beside the edits made with it. */
export const ApiTokenName = Type.String({ minLength: 1, maxLength: 100 });
export const WorkspaceRole = Type.Union(WorkspaceRoles.map((role) => Type.Literal(role)));
export type WorkspaceRole = Static<typeof WorkspaceRole>;
export const WorkspaceName = Type.String({ minLength: 1, maxLength: 100 });
export const DocKind = Type.Union([Type.Literal("text"), Type.Literal("board")]);
export type DocKind = Static<typeof DocKind>;

/** A Yjs relative position (`Y.encodeRelativePosition`), base64: it follows its text through concurrent edits. */
const RelativePosition = Type.String({ minLength: 4, maxLength: 1024, pattern: "^[A-Za-z0-9+/]+={0,2}$" });
/**
 * Where a comment thread points: a range of the rich text (relative positions into the
 * XmlFragment `default`, so the range moves with the text and collapses when its text is
 * deleted, which shows the thread as detached) or a board card (by the card's id in the
 * Y.Map `board`).
 */
export const CommentAnchor = Type.Union([
  Type.Object({ type: Type.Literal("text"), start: RelativePosition, end: RelativePosition }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal("card"), cardId: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false }),
]);
export type CommentAnchor = Static<typeof CommentAnchor>;
/** A comment's text: plain text, mentions as `@Name` in it and their ids beside it. */
export const CommentBody = Type.String({ minLength: 1, maxLength: 10_000 });
/** The members a comment mentions; each is told (a notification, and an email if they want one). */
export const CommentMentions = Type.Array(Type.String({ pattern: SAFE_ID_PATTERN }), { maxItems: 50, uniqueItems: true });
/**
 * Which notifications also come by email: all of them (mentions, replies in my threads, shares),
 * mentions only, or none. Every notification stays in the inbox whatever this says.
 */
export const NotificationEmailSetting = Type.Union([Type.Literal("all"), Type.Literal("mentions"), Type.Literal("none")]);
export type NotificationEmailSetting = Static<typeof NotificationEmailSetting>;

export const EventPayloads = {
  "user.registered.v1": Type.Object({
    userId: Id,
    email: Type.String({ minLength: 3, maxLength: 320 }),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    passwordHash: Type.String({ minLength: 20, maxLength: 512 }),
  }),
  "session.started.v1": Type.Object({
    sessionId: Id,
    userId: Id,
    refreshTokenHash: Type.String({ minLength: 64, maxLength: 64 }),
    expiresAt: IsoTime,
  }),
  "session.refreshed.v1": Type.Object({
    sessionId: Id,
    previousTokenHash: Type.String({ minLength: 64, maxLength: 64 }),
    refreshTokenHash: Type.String({ minLength: 64, maxLength: 64 }),
    expiresAt: IsoTime,
  }),
  "session.revoked.v1": Type.Object({
    sessionId: Id,
    reason: Type.Union([Type.Literal("logout"), Type.Literal("reuse-detected"), Type.Literal("admin")]),
  }),
  /**
   * Sessions ended together: "sign out everywhere", a password change (every session but the one
   * that changed it) or a reset. One event per session keeps each session's own subject the whole
   * story of that session.
   */
  "session.revoked.v2": Type.Object({
    sessionId: Id,
    reason: Type.Union([Type.Literal("signed-out-everywhere"), Type.Literal("password-changed"), Type.Literal("password-reset")]),
  }),
  /** A new password, set by its owner (knowing the old one) or through an emailed reset link. */
  "user.password-changed.v1": Type.Object({
    userId: Id,
    passwordHash: Type.String({ minLength: 20, maxLength: 512 }),
    via: Type.Union([Type.Literal("change"), Type.Literal("reset")]),
    /** The reset link used, so it works once. */
    resetTokenHash: Type.Optional(Type.String({ minLength: 64, maxLength: 64 })),
  }),
  /** A reset link was emailed; only the hash of its token is kept. */
  "user.password-reset-requested.v1": Type.Object({
    userId: Id,
    tokenHash: Type.String({ minLength: 64, maxLength: 64 }),
    expiresAt: IsoTime,
  }),
  /**
   * Someone asked to create an account for an address that has none (registration confirmed by
   * email): the link's token hash, and what the account will be made of once the link is opened.
   * `userId` is the id the account gets, so opening this link marks this request, and no other, used.
   */
  "user.registration-requested.v1": Type.Object({
    userId: Id,
    email: Type.String({ minLength: 3, maxLength: 320 }),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    passwordHash: Type.String({ minLength: 20, maxLength: 512 }),
    tokenHash: Type.String({ minLength: 64, maxLength: 64 }),
    expiresAt: IsoTime,
  }),
  /** Someone tried to create an account with an address that has one; its owner was emailed a notice. */
  "user.registration-notice-sent.v1": Type.Object({ userId: Id }),
  /**
   * A signed-in user made an API token for a bot or script, on the token's own subject. Only the
   * SHA-256 of its secret is kept; the token itself was shown once, to its owner.
   */
  "api-token.created.v1": Type.Object({
    tokenId: Id,
    userId: Id,
    name: ApiTokenName,
    scopes: ApiTokenScopeList,
    secretHash: Type.String({ minLength: 64, maxLength: 64 }),
    /** Absent: it works until revoked. */
    expiresAt: Type.Optional(IsoTime),
  }),
  /** Its owner revoked the token; it is refused everywhere from then on. */
  "api-token.revoked.v1": Type.Object({ tokenId: Id, userId: Id }),
  "doc.created.v1": Type.Object({
    docId: Id,
    title: Type.String({ minLength: 1, maxLength: 200 }),
    kind: DocKind,
    ownerId: Id,
  }),
  /**
   * Moved between workspaces, or between a workspace and its owner's own documents (null). A
   * document made in a workspace is created, then moved there, by the same command.
   */
  "doc.moved.v1": Type.Object({ docId: Id, from: Type.Union([Id, Type.Null()]), to: Type.Union([Id, Type.Null()]) }),
  "doc.renamed.v1": Type.Object({ docId: Id, title: Type.String({ minLength: 1, maxLength: 200 }) }),
  "doc.trashed.v1": Type.Object({ docId: Id }),
  "doc.untrashed.v1": Type.Object({ docId: Id }),
  /** A member added, directly (the email has an account) or when an invitation is accepted. */
  "doc.shared.v1": Type.Object({ docId: Id, userId: Id, role: Role, invitedEmail: Type.Optional(Type.String({ maxLength: 320 })) }),
  /**
   * A pending invitation for an email with no account yet (v1: accepted on registration, which
   * proved nothing; such invitations can no longer be accepted and are listed until re-sent or cancelled).
   */
  "doc.invited.v1": Type.Object({ docId: Id, email: Type.String({ minLength: 3, maxLength: 320 }), role: Role }),
  /**
   * A pending invitation sent by email as a single-use link: only whoever holds the link's token
   * (its hash is kept here) can accept it, before `expiresAt`. Inviting the same email again
   * replaces the invitation, and the earlier link stops working.
   */
  "doc.invited.v2": Type.Object({
    docId: Id,
    email: Type.String({ minLength: 3, maxLength: 320 }),
    role: Role,
    tokenHash: Type.String({ minLength: 64, maxLength: 64 }),
    expiresAt: IsoTime,
  }),
  "doc.invitation-cancelled.v1": Type.Object({ docId: Id, email: Type.String({ minLength: 3, maxLength: 320 }) }),
  "doc.role-changed.v1": Type.Object({ docId: Id, userId: Id, role: Role, previousRole: Role }),
  "doc.member-removed.v1": Type.Object({ docId: Id, userId: Id, reason: Type.Union([Type.Literal("removed"), Type.Literal("left")]) }),
  "doc.ownership-transferred.v1": Type.Object({ docId: Id, fromUserId: Id, toUserId: Id }),
  "doc.version-named.v1": Type.Object({ docId: Id, name: Type.String({ minLength: 1, maxLength: 100 }), seq: Type.Integer({ minimum: 0 }) }),
  /** The owner emptied the document from the trash: it is gone for everyone and its files are deleted from the store. */
  "doc.purged.v1": Type.Object({ docId: Id }),
  /** A workspace, on its own subject (`docs.ws.<id>`); its maker is its first owner. */
  "workspace.created.v1": Type.Object({ workspaceId: Id, name: WorkspaceName, ownerId: Id }),
  "workspace.renamed.v1": Type.Object({ workspaceId: Id, name: WorkspaceName }),
  /** Deleted by an owner once it held no documents outside the trash; what is in its trash goes back to its owners. */
  "workspace.deleted.v1": Type.Object({ workspaceId: Id }),
  /** Someone joined, with the role they have on the workspace and, through it, on its documents. */
  "workspace.member-added.v1": Type.Object({ workspaceId: Id, userId: Id, role: WorkspaceRole }),
  "workspace.role-changed.v1": Type.Object({ workspaceId: Id, userId: Id, role: WorkspaceRole, previousRole: WorkspaceRole }),
  /**
   * An email with no account yet invited with a single-use link, as for documents (`doc.invited.v2`):
   * only the link's holder can accept, before `expiresAt`; inviting again replaces the link.
   */
  "workspace.invited.v1": Type.Object({
    workspaceId: Id,
    email: Type.String({ minLength: 3, maxLength: 320 }),
    role: WorkspaceRole,
    tokenHash: Type.String({ minLength: 64, maxLength: 64 }),
    expiresAt: IsoTime,
  }),
  "workspace.invitation-cancelled.v1": Type.Object({ workspaceId: Id, email: Type.String({ minLength: 3, maxLength: 320 }) }),
  /** The link's holder, signed in as `userId`, joined with the invitation's role; the invitation is used up. */
  "workspace.invitation-accepted.v1": Type.Object({ workspaceId: Id, email: Type.String({ minLength: 3, maxLength: 320 }), userId: Id, role: WorkspaceRole }),
  "workspace.member-removed.v1": Type.Object({ workspaceId: Id, userId: Id, reason: Type.Union([Type.Literal("removed"), Type.Literal("left")]) }),
  /**
   * A comment, on the document's own subject, by the event's actor: a new thread (no `threadId`,
   * maybe an anchor) or a reply in the thread `threadId`, which opens that thread again if it was
   * resolved (before 2026-12 a reply to a resolved thread came after a `comment.reopened.v1`).
   */
  "comment.created.v1": Type.Object({
    docId: Id,
    commentId: Id,
    threadId: Type.Optional(Id),
    anchor: Type.Optional(CommentAnchor),
    body: CommentBody,
    mentions: CommentMentions,
  }),
  /** Its author changed a comment's text; `mentions` are the ones the new text has. */
  "comment.edited.v1": Type.Object({ docId: Id, commentId: Id, body: CommentBody, mentions: CommentMentions }),
  /** A comment deleted by its author or the owner; deleting a thread's first comment deletes the thread. */
  "comment.deleted.v1": Type.Object({ docId: Id, commentId: Id }),
  /** A thread (named by its first comment) marked done, or opened again. */
  "comment.resolved.v1": Type.Object({ docId: Id, commentId: Id }),
  "comment.reopened.v1": Type.Object({ docId: Id, commentId: Id }),
  /**
   * The owner named an endpoint for the document's events. No secret here: each endpoint's signing
   * secret is derived from a server key and the webhook's id, so the stream (and the audit trail
   * that keeps these events whole) never holds one. `editVersion` is the document's edit version
   * when it was registered: `doc.edited` deliveries cover the edits after it.
   */
  /**
   * An endpoint registered by the owner. Its URL is sealed (the docs service alone opens it: a
   * hook's path is often its receiver's credential, and these events are in the audit trail);
   * `host` is the URL's host, in clear.
   */
  "webhook.registered.v1": Type.Object({
    docId: Id,
    webhookId: Id,
    host: Type.String({ minLength: 1, maxLength: 300 }),
    sealedUrl: Type.String({ minLength: 1, maxLength: 4 * MAX_WEBHOOK_URL_LENGTH, pattern: "^v1\\.[A-Za-z0-9_.-]+$" }),
    events: WebhookEvents,
    editVersion: Type.Integer({ minimum: 0 }),
  }),
  "webhook.deleted.v1": Type.Object({ docId: Id, webhookId: Id }),
  /**
   * Deliveries kept failing, so the service stopped sending (no actor: the service did it);
   * `ownerId` is who is told, the document's owner then.
   */
  "webhook.disabled.v1": Type.Object({ docId: Id, webhookId: Id, reason: Type.String({ minLength: 1, maxLength: 500 }), ownerId: Id }),
  /** The owner replayed a disabled endpoint's deliveries, which turns it on again. */
  "webhook.enabled.v1": Type.Object({ docId: Id, webhookId: Id }),
  /** The person marked these notifications of theirs read (ids from their inbox), on their inbox's subject. */
  "notification.read.v1": Type.Object({ userId: Id, ids: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 500 }) }),
  /**
   * These notifications went out to the person in one email (a batch), on their inbox's subject:
   * stored so a rebuilt inbox does not mail them again.
   */
  "notification.mailed.v1": Type.Object({ userId: Id, ids: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 500 }) }),
  /** The person chose which notifications also come by email, on their inbox's subject. */
  "notification.settings-changed.v1": Type.Object({ userId: Id, email: NotificationEmailSetting }),
  /**
   * The tombstone history leaves once a purged document's content is erased everywhere (the EDITS
   * stream, the edit log's copies, chunks, snapshots): who purged it and when, and where its edit
   * chain stood, so an audit trail exported before the erasure still verifies up to it.
   */
  "doc.erased.v1": Type.Object({
    docId: Id,
    /** Absent when no user was named on the purge. */
    purgedBy: Type.Optional(Id),
    purgedAt: Type.String({ format: "date-time" }),
    /** The DOCS stream sequence of the `doc.purged.v1` event this erasure carried out. */
    purgeStreamSeq: Type.Integer({ minimum: 1 }),
    /** The document's last edit (its version number) and where it was in the EDITS stream; 0 for none. */
    lastEditSeq: Type.Integer({ minimum: 0 }),
    lastEditStreamSeq: Type.Integer({ minimum: 0 }),
    /** The edit chain's head hash after that edit (the genesis hash for none): an export's `end.editHead`. */
    editHead: Type.String({ minLength: 1, maxLength: 128 }),
  }),
  /**
   * A file attached to a document, stored at `key` in the object store. `contentType` is what its
   * bytes are (sniffed), never what the client claimed. File events live on `docs.file.<docId>`.
   */
  "file.uploaded.v1": Type.Object({
    docId: Id,
    fileId: Id,
    uploaderId: Id,
    name: Type.String({ minLength: 1, maxLength: 255 }),
    contentType: Type.String({ minLength: 3, maxLength: 127 }),
    size: Type.Integer({ minimum: 1 }),
    key: Type.String({ minLength: 1, maxLength: 1024 }),
    via: Type.Union([Type.Literal("service"), Type.Literal("presigned")]),
  }),
  "file.thumbnail-ready.v1": Type.Object({
    docId: Id,
    fileId: Id,
    key: Type.String({ minLength: 1, maxLength: 1024 }),
    contentType: Type.String({ minLength: 3, maxLength: 127 }),
    size: Type.Integer({ minimum: 1 }),
    width: Type.Integer({ minimum: 1 }),
    height: Type.Integer({ minimum: 1 }),
  }),
  /**
   * The thumbnail worker could not decode an image whose type passed the sniff (a valid signature
   * over a corrupt or truncated body): it gets no thumbnail, and is never tried again.
   */
  "file.thumbnail-failed.v1": Type.Object({
    docId: Id,
    fileId: Id,
    reason: Type.String({ minLength: 1, maxLength: 500 }),
  }),
  "file.deleted.v1": Type.Object({
    docId: Id,
    fileId: Id,
    reason: Type.Union([Type.Literal("deleted"), Type.Literal("purged")]),
  }),
} as const;

export type EventType = keyof typeof EventPayloads;
export type EventPayload<T extends EventType> = Static<(typeof EventPayloads)[T]>;

export const EventEnvelope = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  type: Type.String({ minLength: 1, maxLength: 64 }),
  at: IsoTime,
  /** The user who caused the event, when one did. */
  actorId: Type.Optional(Id),
  data: Type.Unknown(),
});

export interface DomainEvent<T extends EventType = EventType> {
  id: string;
  type: T;
  at: string;
  actorId?: string;
  data: EventPayload<T>;
}

export type AnyDomainEvent = { [K in EventType]: DomainEvent<K> }[EventType];

export function isEventType(value: string): value is EventType {
  return Object.hasOwn(EventPayloads, value);
}

export function payloadSchemaOf(type: EventType): TSchema {
  return EventPayloads[type];
}
