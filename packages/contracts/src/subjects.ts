import { isSubjectSafeId } from "./ids.ts";

/**
 * Stream names and subject builders. Call sites never concatenate subjects.
 *
 * | stream | subjects           | holds                                                      |
 * |--------|--------------------|------------------------------------------------------------|
 * | EDITS  | edits.<docId>      | one message per accepted Yjs update, raw bytes + headers   |
 * | DOCS   | docs.evt.<docId>   | document and board metadata events (JSON)                  |
 * |        | docs.file.<docId>  | the document's file events (JSON): uploaded, thumbnail, deleted |
 * |        | docs.erased.<docId> | the tombstone history leaves when it erases a purged document's content |
 * |        | docs.inbox.<userId> | what a person did with their notifications (read them, had them mailed, chose what is mailed) |
 * |        | docs.ws.<workspaceId> | workspace events (JSON): created, renamed, deleted, members |
 * | AUTH   | auth.evt.>         | user and session events (JSON)                             |
 * | MAIL   | mail.out.>         | the outbox: email waiting for the sender (JSON, work queue) |
 * | EDIT_HEADS | edit-heads.<docId> | each document's newest edit, one message per document (edit-heads.ts) |
 *
 * The per-subject sequence check (`Nats-Expected-Last-Subject-Sequence`) compares against the
 * *stream* sequence of the last message on the subject, so an aggregate's version is a stream
 * sequence, not a counter of its own.
 */
export const Streams = {
  edits: "EDITS",
  docs: "DOCS",
  auth: "AUTH",
  mail: "MAIL",
  editHeads: "EDIT_HEADS",
} as const;
export type StreamName = (typeof Streams)[keyof typeof Streams];

const EDITS = "edits.";
const DOC_EVENTS = "docs.evt.";
const FILE_EVENTS = "docs.file.";
const ERASURES = "docs.erased.";
const INBOX = "docs.inbox.";
const WORKSPACE_EVENTS = "docs.ws.";
const EDIT_HEADS = "edit-heads.";
const INBOX_CHANGED = "inbox-changed.";

function token(id: string): string {
  if (!isSubjectSafeId(id)) throw new Error(`id is not subject-safe: ${JSON.stringify(id)}`);
  return id;
}

export const subjects = {
  edits: (docId: string) => `${EDITS}${token(docId)}`,
  allEdits: () => "edits.>",
  docEvents: (docId: string) => `${DOC_EVENTS}${token(docId)}`,
  allDocEvents: () => "docs.evt.>",
  /**
   * File events sit beside the document's own events in the DOCS stream, on a subject of their own:
   * the document aggregate's version (the expected-sequence check on `docs.evt.<docId>`) does not
   * move when someone attaches a file, yet both are one stream order for the audit trail.
   */
  fileEvents: (docId: string) => `${FILE_EVENTS}${token(docId)}`,
  allFileEvents: () => "docs.file.>",
  /**
   * The erasure tombstone of a purged document, on a subject of its own: only history writes it
   * (its NATS permissions name this subject, not the document's events), and once, as the subject's
   * first message.
   */
  erasure: (docId: string) => `${ERASURES}${token(docId)}`,
  allErasures: () => "docs.erased.>",
  /**
   * A person's notification inbox: what they did with their notifications (marked them read, had
   * them mailed, chose which are mailed).
   * The notifications themselves are read from the documents' events; only the reader's own acts
   * are stored here, in the DOCS stream, so the inbox rebuilds from one stream in one order.
   */
  inbox: (userId: string) => `${INBOX}${token(userId)}`,
  allInboxes: () => "docs.inbox.>",
  /**
   * A workspace aggregate's events, in the DOCS stream beside its documents' so access (a
   * document's shares and its workspace's members) has one order to be read in.
   */
  workspaceEvents: (workspaceId: string) => `${WORKSPACE_EVENTS}${token(workspaceId)}`,
  allWorkspaceEvents: () => "docs.ws.>",
  /** Every subject of the DOCS stream (document and file events), for read models that want both. */
  allDocsStream: () => "docs.>",
  /** Registration claims the email: the subject is keyed by the email's hash, so a second claim fails the expected-sequence check. */
  userByEmail: (emailHash: string) => `auth.evt.email.${token(emailHash)}`,
  user: (userId: string) => `auth.evt.user.${token(userId)}`,
  /**
   * Registration requests confirmed by email, by the email's hash: a subject apart from the claim
   * (`userByEmail`), whose first message must stay the registration itself.
   */
  registration: (emailHash: string) => `auth.evt.registration.${token(emailHash)}`,
  session: (sessionId: string) => `auth.evt.session.${token(sessionId)}`,
  apiToken: (tokenId: string) => `auth.evt.api-token.${token(tokenId)}`,
  allAuthEvents: () => "auth.evt.>",
  /** The outbox: every email any service sends goes here, and one sender delivers it over SMTP. */
  mail: (kind: string) => `mail.out.${token(kind)}`,
  allMail: () => "mail.out.>",
  /**
   * A document's newest edit (its version and when it was stored), kept by history: the stream
   * holds one message per subject, so it is the latest value per document, not a history.
   */
  editHead: (docId: string) => `${EDIT_HEADS}${token(docId)}`,
  allEditHeads: () => "edit-heads.>",
  /**
   * A person's inbox changed (the notifications read model committed something of theirs): core
   * NATS, never stored, so the gateways can tell that person's open pages at once.
   */
  inboxChanged: (userId: string) => `${INBOX_CHANGED}${token(userId)}`,
  allInboxChanges: () => "inbox-changed.>",
  /** Presence is ephemeral: core NATS, never stored. */
  awareness: (docId: string) => `presence.${token(docId)}`,
  /** A replica that opens a document asks the others for its current presence here. */
  awarenessQuery: (docId: string) => `presence-query.${token(docId)}`,
  /** Sync replicas announce they are alive; presence from a silent replica is dropped. */
  replicaHeartbeat: () => "presence-heartbeat",
  /** Live notices from services to the sync replicas (revocations, role changes). */
  collabControl: () => "collab.control",
  /**
   * Replicas the gateway connects to directly (sync, files) say here where they can be reached:
   * on start, every few seconds, when asked, and once more when they begin shutting down.
   * One subject per service, so a service's NATS permissions can name exactly its own.
   */
  replicaAnnounce: (service: DiscoverableService) => `replicas.announce.${service}`,
  allReplicaAnnouncements: () => "replicas.announce.>",
  /** A gateway that starts asks here; every live replica of the service announces itself at once. */
  replicaQuery: (service: DiscoverableService) => `replicas.query.${service}`,
} as const;

function idAfter(prefix: string, subject: string): string | undefined {
  if (!subject.startsWith(prefix)) return undefined;
  const id = subject.slice(prefix.length);
  return isSubjectSafeId(id) ? id : undefined;
}

/**
 * The document id in a subject built by `subjects.edits`, `docEvents` or `fileEvents`; undefined
 * for any other subject, so a consumer of a wider filter skips what is not its own.
 */
export const subjectDocId = {
  edits: (subject: string) => idAfter(EDITS, subject),
  docEvents: (subject: string) => idAfter(DOC_EVENTS, subject),
  fileEvents: (subject: string) => idAfter(FILE_EVENTS, subject),
  erasure: (subject: string) => idAfter(ERASURES, subject),
  editHead: (subject: string) => idAfter(EDIT_HEADS, subject),
} as const;

/** The person in a subject built by `subjects.inbox` or `inboxChanged`; undefined for any other subject. */
export const subjectUserId = {
  inbox: (subject: string) => idAfter(INBOX, subject),
  inboxChanged: (subject: string) => idAfter(INBOX_CHANGED, subject),
} as const;

/** The workspace in a subject built by `subjects.workspaceEvents`; undefined for any other subject. */
export const subjectWorkspaceId = (subject: string): string | undefined => idAfter(WORKSPACE_EVENTS, subject);

/** The stream that stores a subject's messages, from the prefixes in the table above. */
export function streamOfSubject(subject: string): StreamName {
  if (subject.startsWith(EDITS)) return Streams.edits;
  if (subject.startsWith(DOC_EVENTS) || subject.startsWith(FILE_EVENTS) || subject.startsWith(ERASURES) || subject.startsWith(INBOX) || subject.startsWith(WORKSPACE_EVENTS)) return Streams.docs;
  if (subject.startsWith("auth.evt.")) return Streams.auth;
  if (subject.startsWith("mail.out.")) return Streams.mail;
  if (subject.startsWith(EDIT_HEADS)) return Streams.editHeads;
  throw new Error(`no stream stores ${subject}`);
}

/** Request/reply subjects; each service subscribes with a queue group named after itself. */
export const rpc = {
  auth: {
    register: "rpc.auth.register",
    login: "rpc.auth.login",
    refresh: "rpc.auth.refresh",
    logout: "rpc.auth.logout",
    me: "rpc.auth.me",
    jwks: "rpc.auth.jwks",
    changePassword: "rpc.auth.change-password",
    forgotPassword: "rpc.auth.forgot-password",
    resetPassword: "rpc.auth.reset-password",
    confirmRegistration: "rpc.auth.confirm-registration",
    logoutEverywhere: "rpc.auth.logout-everywhere",
    /** Internal: who has this email, if anyone (for sharing). */
    lookup: "rpc.auth.lookup",
    /** API tokens for bots and scripts: made, listed and revoked by their signed-in owner. */
    listApiTokens: "rpc.auth.api-tokens.list",
    createApiToken: "rpc.auth.api-tokens.create",
    revokeApiToken: "rpc.auth.api-tokens.revoke",
    /** Internal: whose an API token is and what it may do, for the service that was handed it. */
    resolveApiToken: "rpc.auth.api-tokens.resolve",
  },
  docs: {
    create: "rpc.docs.create",
    list: "rpc.docs.list",
    get: "rpc.docs.get",
    access: "rpc.docs.access",
    rename: "rpc.docs.rename",
    trash: "rpc.docs.trash",
    untrash: "rpc.docs.untrash",
    members: "rpc.docs.members",
    share: "rpc.docs.share",
    changeRole: "rpc.docs.change-role",
    removeMember: "rpc.docs.remove-member",
    cancelInvitation: "rpc.docs.cancel-invitation",
    acceptInvitation: "rpc.docs.accept-invitation",
    leave: "rpc.docs.leave",
    transfer: "rpc.docs.transfer",
    nameVersion: "rpc.docs.name-version",
    versions: "rpc.docs.versions",
    comments: "rpc.docs.comments",
    addComment: "rpc.docs.add-comment",
    reply: "rpc.docs.reply",
    updateComment: "rpc.docs.update-comment",
    deleteComment: "rpc.docs.delete-comment",
    notifications: "rpc.docs.notifications",
    markRead: "rpc.docs.mark-read",
    notificationSettings: "rpc.docs.notification-settings",
    setNotificationSettings: "rpc.docs.set-notification-settings",
    webhooks: "rpc.docs.webhooks",
    registerWebhook: "rpc.docs.register-webhook",
    deleteWebhook: "rpc.docs.delete-webhook",
    webhookDeliveries: "rpc.docs.webhook-deliveries",
    replayWebhook: "rpc.docs.replay-webhook",
    /** Full-text search over the titles and content the caller may read. */
    search: "rpc.docs.search",
    /** Move a document into a workspace or out to its owner's own documents. */
    move: "rpc.docs.move",
    workspaces: "rpc.docs.workspaces.list",
    createWorkspace: "rpc.docs.workspaces.create",
    workspace: "rpc.docs.workspaces.get",
    renameWorkspace: "rpc.docs.workspaces.rename",
    deleteWorkspace: "rpc.docs.workspaces.delete",
    workspaceMembers: "rpc.docs.workspaces.members",
    addWorkspaceMember: "rpc.docs.workspaces.add-member",
    changeWorkspaceRole: "rpc.docs.workspaces.change-role",
    removeWorkspaceMember: "rpc.docs.workspaces.remove-member",
    cancelWorkspaceInvitation: "rpc.docs.workspaces.cancel-invitation",
  },
  history: {
    list: "rpc.history.list",
    activity: "rpc.history.activity",
    /** One page of a document's NDJSON audit trail; the gateway streams the pages. */
    audit: "rpc.history.audit",
    /** The public keys that verify the audit trail's signed checkpoints, with their validity periods. */
    auditKeys: "rpc.history.audit-keys",
    version: "rpc.history.version",
    restore: "rpc.history.restore",
    /** Internal: a document's newest version number. */
    head: "rpc.history.head",
    diff: "rpc.history.diff",
    /** Internal: the newest snapshot of a document, for sync replicas opening it. */
    snapshot: "rpc.history.snapshot",
    /** Internal, for the docs service's search index: a document's newest text (rich text or card texts). */
    searchText: "rpc.history.search-text",
    /** The current document as Markdown, HTML or an archive (read access). */
    export: "rpc.history.export",
    /** A new document from a Markdown, HTML or archive file, its content stored as its first edit. */
    import: "rpc.history.import",
    /** One page of a workspace's NDJSON archive (workspace owners, admins and auditors); the gateway streams the pages. */
    exportWorkspace: "rpc.history.export-workspace",
    /** One page of a workspace's NDJSON audit trail (its events and its members' account events; owners, admins and auditors); the gateway streams the pages. */
    workspaceAudit: "rpc.history.workspace-audit",
  },
  files: {
    list: "rpc.files.list",
    /** Confirms a presigned upload: the object is checked (size, real type, quota) and recorded, or deleted. */
    complete: "rpc.files.complete",
    remove: "rpc.files.remove",
  },
  /** Each service answers `rpc.<service>.ready` with its readiness, so the gateway can report the whole system. */
  ready: (service: ServiceName) => `rpc.${service}.ready`,
} as const;

export const ServiceNames = ["gateway", "auth", "docs", "sync", "files", "history"] as const;
export type ServiceName = (typeof ServiceNames)[number];
/** Services the gateway reaches over TCP/HTTP rather than NATS, so it must know their addresses. */
export const DiscoverableServices = ["sync", "files"] as const satisfies readonly ServiceName[];
export type DiscoverableService = (typeof DiscoverableServices)[number];
