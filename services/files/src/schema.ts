import { sql } from "kysely";
import type { Migration } from "@palimpsest/platform";

/** Every file ever attached, projected from the file events; a deleted one keeps its row with `deleted_at`. */
export interface FilesTable {
  file_id: string;
  doc_id: string;
  name: string;
  content_type: string;
  size: number;
  object_key: string;
  uploaded_by: string;
  uploaded_at: Date;
  via: "service" | "presigned";
  thumb_key: string | null;
  thumb_type: string | null;
  thumb_size: number | null;
  thumb_width: number | null;
  thumb_height: number | null;
  /** When the thumbnail worker gave up on the image (it could not be decoded). */
  thumb_failed_at: Date | null;
  deleted_at: Date | null;
  deleted_reason: string | null;
}

/**
 * Presigned uploads asked for and not yet confirmed. Not a projection: in-flight state of this
 * service, like a lock. A row goes when its upload is recorded or refused, or when it expires
 * (the sweeper then also removes whatever was PUT under its key).
 */
export interface PendingUploadsTable {
  file_id: string;
  doc_id: string;
  user_id: string;
  name: string;
  claimed_type: string;
  size: number;
  upload_key: string;
  expires_at: Date;
}

export interface FilesDb {
  files: FilesTable;
  pending_uploads: PendingUploadsTable;
}

export const filesMigrations: Record<string, Migration> = {
  "001_initial": {
    async up(db) {
      await db.schema
        .createTable("files")
        .addColumn("file_id", "text", (c) => c.primaryKey())
        .addColumn("doc_id", "text", (c) => c.notNull())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("content_type", "text", (c) => c.notNull())
        .addColumn("size", "bigint", (c) => c.notNull())
        .addColumn("object_key", "text", (c) => c.notNull())
        .addColumn("uploaded_by", "text", (c) => c.notNull())
        .addColumn("uploaded_at", "timestamptz", (c) => c.notNull())
        .addColumn("via", "text", (c) => c.notNull())
        .addColumn("thumb_key", "text")
        .addColumn("thumb_type", "text")
        .addColumn("thumb_size", "bigint")
        .addColumn("thumb_width", "integer")
        .addColumn("thumb_height", "integer")
        .addColumn("deleted_at", "timestamptz")
        .addColumn("deleted_reason", "text")
        .execute();
      await db.schema.createIndex("files_doc_idx").on("files").columns(["doc_id", "uploaded_at"]).execute();
      // Quota: the live bytes of one uploader.
      await sql`create index files_uploader_live_idx on files (uploaded_by) include (size) where deleted_at is null`.execute(db);
      await db.schema
        .createTable("pending_uploads")
        .addColumn("file_id", "text", (c) => c.primaryKey())
        .addColumn("doc_id", "text", (c) => c.notNull())
        .addColumn("user_id", "text", (c) => c.notNull())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("claimed_type", "text", (c) => c.notNull())
        .addColumn("size", "bigint", (c) => c.notNull())
        .addColumn("upload_key", "text", (c) => c.notNull())
        .addColumn("expires_at", "timestamptz", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("pending_uploads_user_idx").on("pending_uploads").columns(["user_id", "expires_at"]).execute();
    },
  },
  "002_thumbnail_failed": {
    async up(db) {
      await db.schema.alterTable("files").addColumn("thumb_failed_at", "timestamptz").execute();
    },
  },
};

/** Each projection and the tables it alone writes: what a rebuild truncates and replays. */
export const filesProjections = {
  files: ["files"],
} as const;
