import { sql, type ColumnType, type Generated } from "kysely";
import type { Migration } from "@palimpsest/platform";
import type { CommentAnchor, DocKind, NotificationEmailSetting, Role, WebhookDeliveryStatus, WebhookEventType, WorkspaceRole } from "@palimpsest/contracts";

export interface DocumentsTable {
  id: string;
  title: string;
  kind: DocKind;
  owner_id: string;
  created_at: Date;
  /** Time of the last metadata event. */
  updated_at: Date;
  trashed_at: Date | null;
  /** Stream sequence of the last event applied: the aggregate's version. */
  version: number;
  /** The workspace it belongs to; null when it is its owner's own. */
  workspace_id: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface WorkspacesTable {
  id: string;
  name: string;
  created_at: Date;
  /** Stream sequence of the last event applied. */
  version: number;
}

export interface WorkspaceInvitationsTable {
  workspace_id: string;
  email: string;
  role: WorkspaceRole;
  token_hash: string;
  expires_at: Date;
  invited_at: Date;
}

export interface WorkspaceMembersTable {
  workspace_id: string;
  user_id: string;
  role: WorkspaceRole;
  added_at: Date;
}

/**
 * Who may open each document and as what: their own share, or what their workspace role gives
 * (WorkspaceDocumentRoles), the stronger of the two (strongerRole). A view over the two read
 * models, so lists and search filter by access as it is at query time.
 */
export interface DocumentAccessView {
  doc_id: string;
  user_id: string;
  role: Role;
}

export interface MembersTable {
  doc_id: string;
  user_id: string;
  role: Role;
  added_at: Date;
}

export interface InvitationsTable {
  doc_id: string;
  email: string;
  role: Role;
  invited_at: Date;
  /** The emailed link's token hash, to find the invitation a link names; null for invitations from before links. */
  token_hash: string | null;
  expires_at: Date | null;
}

/** Who exists, mirrored from the AUTH stream, so sharing by email needs no call to auth. */
export interface DocUsersTable {
  id: string;
  email: string;
  name: string;
}

/** Time of the last stored edit, from the EDITS stream, so lists can sort by last change. */
export interface LastEditTable {
  doc_id: string;
  last_edit_at: Date;
}

export interface NamedVersionsTable {
  doc_id: string;
  name: string;
  seq: number;
  named_by: string;
  named_at: Date;
  stream_seq: number;
}

/** Comments that are not deleted; a thread is its first comment (no `thread_id`) and the replies naming it. */
export interface CommentsTable {
  id: string;
  doc_id: string;
  thread_id: string | null;
  author_id: string;
  /** JSON, written as text. */
  anchor: ColumnType<CommentAnchor | null, string | null, string | null>;
  body: string;
  mentions: ColumnType<string[], string, string>;
  created_at: Date;
  updated_at: Date;
  resolved_at: Date | null;
  resolved_by: string | null;
  /** The DOCS stream sequence of the comment's creation: the order of a document's comments. */
  stream_seq: number;
}

/** A person's notifications, from the documents' events; gone with the comment they are about. */
export interface NotificationsTable {
  /** `<stream sequence of the event>-<recipient>`: one per event and person, so a replay stores it once. */
  id: string;
  user_id: string;
  type: "mention" | "reply" | "share" | "webhook_disabled";
  doc_id: string;
  comment_id: string | null;
  /** The thread the comment is in, so a deleted thread takes its notifications with it. */
  thread_id: string | null;
  actor_id: string;
  excerpt: string | null;
  at: Date;
  read_at: Date | null;
  /** When it went out in an email (null: not mailed, and maybe never, as the person chose). */
  mailed_at: Date | null;
  stream_seq: number;
}

/** Which notifications each person also gets by email; no row: the default, all. */
export interface NotificationSettingsTable {
  user_id: string;
  email: NotificationEmailSetting;
}

/** Who wrote in each thread: those a reply notifies. Owned by the notifications projection. */
export interface ThreadParticipantsTable {
  thread_id: string;
  user_id: string;
}

/** Each comment's thread and document, for the notifications an edit or a purge changes. Owned by the notifications projection. */
export interface CommentThreadsTable {
  comment_id: string;
  thread_id: string;
  doc_id: string;
}

/** A document's webhooks that are not deleted (read model of the `webhook.*` events). No secret: it is derived (webhook-signing.ts). */
export interface WebhooksTable {
  id: string;
  doc_id: string;
  /** The URL's host, in clear; the URL itself sealed (webhook-url-seal.ts). */
  host: string;
  sealed_url: string;
  events: ColumnType<WebhookEventType[], string, string>;
  created_by: string;
  created_at: Date;
  /** The DOCS stream sequence of the registration: only events stored after it are sent. */
  registered_seq: number;
  /** The document's edit version at registration: `doc.edited` covers the edits after it. */
  edit_version: number;
  disabled_at: Date | null;
  disabled_reason: string | null;
}

/**
 * One message to one endpoint, and where its sending stands. Not a projection: what a receiver
 * answered is not in any stream, so a rebuild leaves these alone. `id` is the message's
 * `webhook-id`, derived from the endpoint and the event, so a redelivered event is queued once.
 */
export interface WebhookDeliveriesTable {
  id: string;
  /** Insertion order: the deliveries route's order and cursor. */
  seq: Generated<string>;
  webhook_id: string;
  doc_id: string;
  type: WebhookEventType;
  /** The JSON body, fixed once first sent: a retry or a replay sends the same bytes. */
  payload: string;
  /** `collecting`: a `doc.edited` window not sent yet, which newer edits still widen. */
  status: WebhookDeliveryStatus | "collecting";
  /** Attempts in the current round (a replay starts a new one). */
  attempts: number;
  /** When the current round began: retries stop a configured time after it. */
  round_started_at: Date;
  next_attempt_at: Date;
  /** A replica sending it holds it until then; past it (the replica died) another may take it. */
  leased_until: Date | null;
  created_at: Date;
  /** For `doc.edited`: the edit versions it covers; `edit_to` grows while it has not been sent. */
  edit_from: number | null;
  edit_to: number | null;
}

/** The search index's text of each edited document (search-index.ts): a cache of history's rendering, rebuilt from EDIT_HEADS. */
export interface DocumentTextTable {
  doc_id: string;
  /** What history rendered (searchableBody), for snippets. */
  body: string;
  /** `body` as a tsvector, weight B (titles, matched from `documents`, weigh A). */
  tsv: string;
  /** The document's version the text is of: an older fetch never overwrites a newer one. */
  version: number;
}

export interface WebhookAttemptsTable {
  delivery_id: string;
  at: Date;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

export interface DocsDb {
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  notifications: NotificationsTable;
  notification_settings: NotificationSettingsTable;
  comment_threads: CommentThreadsTable;
  thread_participants: ThreadParticipantsTable;
  comments: CommentsTable;
  named_versions: NamedVersionsTable;
  documents: DocumentsTable;
  document_members: MembersTable;
  workspaces: WorkspacesTable;
  workspace_members: WorkspaceMembersTable;
  workspace_invitations: WorkspaceInvitationsTable;
  document_access: DocumentAccessView;
  document_invitations: InvitationsTable;
  doc_users: DocUsersTable;
  document_last_edit: LastEditTable;
  document_text: DocumentTextTable;
}

export const docsMigrations: Record<string, Migration> = {
  "001_initial": {
    async up(db) {
      await db.schema
        .createTable("documents")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("title", "text", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("owner_id", "text", (c) => c.notNull())
        .addColumn("created_at", "timestamptz", (c) => c.notNull())
        .addColumn("updated_at", "timestamptz", (c) => c.notNull())
        .addColumn("trashed_at", "timestamptz")
        .addColumn("version", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("document_members")
        .addColumn("doc_id", "text", (c) => c.notNull())
        .addColumn("user_id", "text", (c) => c.notNull())
        .addColumn("role", "text", (c) => c.notNull())
        .addColumn("added_at", "timestamptz", (c) => c.notNull())
        .addPrimaryKeyConstraint("document_members_pk", ["doc_id", "user_id"])
        .execute();
      await db.schema.createIndex("document_members_user_idx").on("document_members").columns(["user_id", "doc_id"]).execute();
      await db.schema
        .createTable("document_invitations")
        .addColumn("doc_id", "text", (c) => c.notNull())
        .addColumn("email", "text", (c) => c.notNull())
        .addColumn("role", "text", (c) => c.notNull())
        .addColumn("invited_at", "timestamptz", (c) => c.notNull())
        .addPrimaryKeyConstraint("document_invitations_pk", ["doc_id", "email"])
        .execute();
      await db.schema.createIndex("document_invitations_email_idx").on("document_invitations").column("email").execute();
      await db.schema
        .createTable("doc_users")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("email", "text", (c) => c.notNull().unique())
        .addColumn("name", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("document_last_edit")
        .addColumn("doc_id", "text", (c) => c.primaryKey())
        .addColumn("last_edit_at", "timestamptz", (c) => c.notNull())
        .execute();
      await sql`create index documents_updated_idx on documents (updated_at desc, id desc)`.execute(db);
    },
  },
  "002_named_versions": {
    async up(db) {
      await db.schema
        .createTable("named_versions")
        .addColumn("doc_id", "text", (c) => c.notNull())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("seq", "bigint", (c) => c.notNull())
        .addColumn("named_by", "text", (c) => c.notNull())
        .addColumn("named_at", "timestamptz", (c) => c.notNull())
        .addColumn("stream_seq", "bigint", (c) => c.primaryKey())
        .execute();
      await db.schema.createIndex("named_versions_doc_idx").on("named_versions").columns(["doc_id", "seq"]).execute();
    },
  },
  "003_invitation_links": {
    async up(db) {
      await db.schema.alterTable("document_invitations").addColumn("token_hash", "text").addColumn("expires_at", "timestamptz").execute();
      await db.schema.createIndex("document_invitations_token_idx").on("document_invitations").column("token_hash").unique().execute();
    },
  },
  "004_comments": {
    async up(db) {
      await db.schema
        .createTable("comments")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("doc_id", "text", (c) => c.notNull())
        .addColumn("thread_id", "text")
        .addColumn("author_id", "text", (c) => c.notNull())
        .addColumn("anchor", "jsonb")
        .addColumn("body", "text", (c) => c.notNull())
        .addColumn("mentions", "jsonb", (c) => c.notNull())
        .addColumn("created_at", "timestamptz", (c) => c.notNull())
        .addColumn("updated_at", "timestamptz", (c) => c.notNull())
        .addColumn("resolved_at", "timestamptz")
        .addColumn("resolved_by", "text")
        .addColumn("stream_seq", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("comments_doc_idx").on("comments").columns(["doc_id", "stream_seq"]).execute();
      await db.schema.createIndex("comments_thread_idx").on("comments").column("thread_id").execute();
    },
  },
  "005_notifications": {
    async up(db) {
      await db.schema
        .createTable("notifications")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("user_id", "text", (c) => c.notNull())
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("doc_id", "text", (c) => c.notNull())
        .addColumn("comment_id", "text")
        .addColumn("thread_id", "text")
        .addColumn("actor_id", "text", (c) => c.notNull())
        .addColumn("excerpt", "text")
        .addColumn("at", "timestamptz", (c) => c.notNull())
        .addColumn("read_at", "timestamptz")
        .addColumn("stream_seq", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("notifications_user_idx").on("notifications").columns(["user_id", "stream_seq"]).execute();
      await db.schema.createIndex("notifications_thread_idx").on("notifications").column("thread_id").execute();
      await db.schema
        .createTable("thread_participants")
        .addColumn("thread_id", "text", (c) => c.notNull())
        .addColumn("user_id", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("thread_participants_pk", ["thread_id", "user_id"])
        .execute();
    },
  },
  "006_comment_threads": {
    async up(db) {
      await db.schema
        .createTable("comment_threads")
        .addColumn("comment_id", "text", (c) => c.primaryKey())
        .addColumn("thread_id", "text", (c) => c.notNull())
        .addColumn("doc_id", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("comment_threads_doc_idx").on("comment_threads").column("doc_id").execute();
    },
  },
  "008_webhooks": {
    async up(db) {
      await db.schema
        .createTable("webhooks")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("doc_id", "text", (c) => c.notNull())
        .addColumn("host", "text", (c) => c.notNull())
        .addColumn("sealed_url", "text", (c) => c.notNull())
        .addColumn("events", "jsonb", (c) => c.notNull())
        .addColumn("created_by", "text", (c) => c.notNull())
        .addColumn("created_at", "timestamptz", (c) => c.notNull())
        .addColumn("registered_seq", "bigint", (c) => c.notNull())
        .addColumn("edit_version", "bigint", (c) => c.notNull())
        .addColumn("disabled_at", "timestamptz")
        .addColumn("disabled_reason", "text")
        .execute();
      await db.schema.createIndex("webhooks_doc_idx").on("webhooks").column("doc_id").execute();
      await db.schema
        .createTable("webhook_deliveries")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("seq", "bigserial", (c) => c.notNull().unique())
        .addColumn("webhook_id", "text", (c) => c.notNull())
        .addColumn("doc_id", "text", (c) => c.notNull())
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("payload", "text", (c) => c.notNull())
        .addColumn("status", "text", (c) => c.notNull())
        .addColumn("attempts", "integer", (c) => c.notNull())
        .addColumn("round_started_at", "timestamptz", (c) => c.notNull())
        .addColumn("next_attempt_at", "timestamptz", (c) => c.notNull())
        .addColumn("leased_until", "timestamptz")
        .addColumn("created_at", "timestamptz", (c) => c.notNull())
        .addColumn("edit_from", "bigint")
        .addColumn("edit_to", "bigint")
        .execute();
      await db.schema.createIndex("webhook_deliveries_endpoint_idx").on("webhook_deliveries").columns(["webhook_id", "seq"]).execute();
      await sql`create index webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at) where status in ('pending', 'collecting')`.execute(db);
      // At most one edit window per endpoint still collecting edits (not yet sent): new edits join it.
      await sql`create unique index webhook_deliveries_open_edit_idx on webhook_deliveries (webhook_id) where status = 'collecting'`.execute(db);
      await db.schema
        .createTable("webhook_attempts")
        .addColumn("delivery_id", "text", (c) => c.notNull())
        .addColumn("at", "timestamptz", (c) => c.notNull())
        .addColumn("status_code", "integer")
        .addColumn("error", "text")
        .addColumn("duration_ms", "integer", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("webhook_attempts_delivery_idx").on("webhook_attempts").columns(["delivery_id", "at"]).execute();
    },
  },
  "007_notification_mail": {
    async up(db) {
      await db.schema.alterTable("notifications").addColumn("mailed_at", "timestamptz").execute();
      // What the mail batcher looks for: notifications nobody has read or been mailed yet.
      await db.schema.createIndex("notifications_unmailed_idx").on("notifications").columns(["at"]).where(sql.ref("mailed_at"), "is", null).where(sql.ref("read_at"), "is", null).execute();
      await db.schema
        .createTable("notification_settings")
        .addColumn("user_id", "text", (c) => c.primaryKey())
        .addColumn("email", "text", (c) => c.notNull())
        .execute();
    },
  },
  "009_search": {
    async up(db) {
      await db.schema
        .createTable("document_text")
        .addColumn("doc_id", "text", (c) => c.primaryKey())
        .addColumn("body", "text", (c) => c.notNull())
        .addColumn("tsv", sql`tsvector`, (c) => c.notNull())
        .addColumn("version", "bigint", (c) => c.notNull())
        .execute();
      await sql`create index document_text_tsv_idx on document_text using gin (tsv)`.execute(db);
      // Titles are matched where they live, so a rename is found at once; the configuration is
      // spelled as in search-index.ts (SEARCH_CONFIG), or the planner would not use this index.
      await sql`create index documents_title_tsv_idx on documents using gin (to_tsvector('simple'::regconfig, title))`.execute(db);
    },
  },
  "010_workspaces": {
    async up(db) {
      await db.schema.alterTable("documents").addColumn("workspace_id", "text").execute();
      await db.schema.createIndex("documents_workspace_idx").on("documents").column("workspace_id").where(sql.ref("workspace_id"), "is not", null).execute();
      await db.schema
        .createTable("workspaces")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("created_at", "timestamptz", (c) => c.notNull())
        .addColumn("version", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("workspace_members")
        .addColumn("workspace_id", "text", (c) => c.notNull())
        .addColumn("user_id", "text", (c) => c.notNull())
        .addColumn("role", "text", (c) => c.notNull())
        .addColumn("added_at", "timestamptz", (c) => c.notNull())
        .addPrimaryKeyConstraint("workspace_members_pk", ["workspace_id", "user_id"])
        .execute();
      await db.schema.createIndex("workspace_members_user_idx").on("workspace_members").column("user_id").execute();
      // The mapping and the order are WorkspaceDocumentRoles and strongerRole's, in SQL; a test
      // checks the two agree for every pair of roles.
      await sql`
        create view document_access as
        select doc_id, user_id,
               (array_agg(role order by case role when 'owner' then 5 when 'editor' then 4 when 'auditor' then 3 when 'commenter' then 2 else 1 end desc))[1] as role
        from (
          select doc_id, user_id, role from document_members
          union all
          select d.id as doc_id, wm.user_id,
                 case wm.role when 'owner' then 'owner' when 'admin' then 'owner' when 'member' then 'editor' when 'auditor' then 'auditor' end as role
          from documents d join workspace_members wm on wm.workspace_id = d.workspace_id
          where wm.role <> 'guest'
        ) grants
        group by doc_id, user_id`.execute(db);
    },
  },
  "011_workspace_invitations": {
    async up(db) {
      await db.schema
        .createTable("workspace_invitations")
        .addColumn("workspace_id", "text", (c) => c.notNull())
        .addColumn("email", "text", (c) => c.notNull())
        .addColumn("role", "text", (c) => c.notNull())
        .addColumn("token_hash", "text", (c) => c.notNull())
        .addColumn("expires_at", "timestamptz", (c) => c.notNull())
        .addColumn("invited_at", "timestamptz", (c) => c.notNull())
        .addPrimaryKeyConstraint("workspace_invitations_pk", ["workspace_id", "email"])
        .execute();
      await db.schema.createIndex("workspace_invitations_token_idx").on("workspace_invitations").column("token_hash").execute();
    },
  },
  "012_workspace_documents_belong_to_it": {
    async up(db) {
      // As effectiveRole: a document in a workspace (one not deleted) is the workspace's, so its
      // owner's share counts only while they are in it.
      await sql`
        create or replace view document_access as
        select doc_id, user_id,
               (array_agg(role order by case role when 'owner' then 5 when 'editor' then 4 when 'auditor' then 3 when 'commenter' then 2 else 1 end desc))[1] as role
        from (
          select m.doc_id, m.user_id, m.role from document_members m
          where m.role <> 'owner' or not exists (
            select 1 from documents d join workspaces w on w.id = d.workspace_id
            where d.id = m.doc_id
              and not exists (select 1 from workspace_members wm where wm.workspace_id = w.id and wm.user_id = m.user_id)
          )
          union all
          select d.id as doc_id, wm.user_id,
                 case wm.role when 'owner' then 'owner' when 'admin' then 'owner' when 'member' then 'editor' when 'auditor' then 'auditor' end as role
          from documents d join workspace_members wm on wm.workspace_id = d.workspace_id
          where wm.role <> 'guest'
        ) grants
        group by doc_id, user_id`.execute(db);
    },
  },
};

/** Each projection and the tables it alone writes: what a rebuild truncates and replays. */
export const docsProjections = {
  docs: ["webhooks", "comments", "document_members", "document_invitations", "named_versions", "documents"],
  "docs-users": ["doc_users"],
  "docs-edit-heads": ["document_last_edit"],
  "docs-search": ["document_text"],
  "docs-workspaces": ["workspace_invitations", "workspace_members", "workspaces"],
  "docs-notifications": ["notifications", "thread_participants", "comment_threads", "notification_settings"],
} as const;
