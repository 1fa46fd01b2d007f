import type { Migration } from "@palimpsest/platform";

export interface EditLogTable {
  doc_id: string;
  seq: number;
  stream_seq: number;
  at: Date;
  /** The time exactly as recorded in the event, which the hash covers. */
  at_text: string;
  user_id: string;
  client_id: string;
  size: number;
  prev_hash: string;
  hash: string;
}

export interface HistoryDb {
  edit_log: EditLogTable;
}

export const historyMigrations: Record<string, Migration> = {
  "001_initial": {
    async up(db) {
      await db.schema
        .createTable("edit_log")
        .addColumn("doc_id", "text", (c) => c.notNull())
        .addColumn("seq", "bigint", (c) => c.notNull())
        .addColumn("stream_seq", "bigint", (c) => c.notNull().unique())
        .addColumn("at", "timestamptz", (c) => c.notNull())
        .addColumn("at_text", "text", (c) => c.notNull())
        .addColumn("user_id", "text", (c) => c.notNull())
        .addColumn("client_id", "text", (c) => c.notNull())
        .addColumn("size", "integer", (c) => c.notNull())
        .addColumn("prev_hash", "text", (c) => c.notNull())
        .addColumn("hash", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("edit_log_pk", ["doc_id", "seq"])
        .execute();
      await db.schema.createIndex("edit_log_doc_user_idx").on("edit_log").columns(["doc_id", "user_id", "seq"]).execute();
    },
  },
};

export const historyProjectionTables = ["edit_log"] as const;
