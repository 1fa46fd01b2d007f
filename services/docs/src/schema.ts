import { sql } from "kysely";
import type { Migration } from "@palimpsest/platform";
import type { DocKind, Role } from "@palimpsest/contracts";

export interface DocumentsTable {
  id: string;
  title: string;
  kind: DocKind;
  owner_id: string;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
  /** Stream sequence of the last event applied: the aggregate's version for optimistic concurrency. */
  version: number;
}

export interface MembersTable {
  doc_id: string;
  user_id: string;
  role: Role;
  added_at: Date;
}

export interface DocsDb {
  documents: DocumentsTable;
  document_members: MembersTable;
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
        .addColumn("deleted_at", "timestamptz")
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
      await sql`create index documents_updated_idx on documents (updated_at desc, id desc)`.execute(db);
    },
  },
};

export const docsProjectionTables = ["document_members", "documents"] as const;
