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
  /**
   * The update's bytes, copied from the stream, so a version reads the few updates after its
   * nearest chunk in one query. Null in rows projected before the column existed.
   */
  update: Uint8Array | null;
  /** Made through an API token of the user's: its id and name, as the edit's headers say (hashed). */
  via_token_id: string | null;
  via_name: string | null;
}

export interface ActivityTable {
  doc_id: string;
  stream_seq: number;
  at: Date;
  actor_id: string | null;
  type: string;
  data: string;
}

/** Each document's newest edit, kept by the edit-log projection: what snapshots are measured against. */
export interface DocHeadsTable {
  doc_id: string;
  seq: number;
  stream_seq: number;
  last_at: Date;
}

/**
 * The document's Yjs state after edit `seq`: small ones inline, large ones in the object store.
 * A cache derived from the stream (any snapshot can be rebuilt), so a rebuild leaves it alone.
 */
export interface SnapshotsTable {
  doc_id: string;
  seq: number;
  stream_seq: number;
  created_at: Date;
  size: number;
  state: Uint8Array | null;
  s3_key: string | null;
}

/**
 * The stored updates of a run of consecutive versions, (from_seq, to_seq], merged into one Yjs
 * update: a version is its nearest snapshot plus a chain of these plus a short tail from the
 * stream, instead of up to a whole snapshot interval of single reads. Derived like snapshots.
 */
export interface EditChunksTable {
  doc_id: string;
  from_seq: number;
  to_seq: number;
  to_stream_seq: number;
  update: Uint8Array;
}

/**
 * The history service's Ed25519 keys for signing audit checkpoints; the private key sealed
 * (KeyRing). Never deleted: every old public key stays published, so old checkpoints verify.
 */
export interface AuditKeysTable {
  kid: string;
  private_jwk: string;
  public_jwk: string;
  /** When it began to sign; the next key's `created_at` is when it stopped. */
  created_at: Date;
}

/**
 * Signed checkpoints of documents' edit chains. Evidence, not a projection: a checkpoint cannot
 * be made again honestly for a past time, so no rebuild truncates this table (it is in no
 * projection's list below). One per document and edit: the first signed for a head stands.
 */
export interface AuditCheckpointsTable {
  doc_id: string;
  seq: number;
  edit_head: string;
  /** The signed time, exactly as signed. */
  at: string;
  kid: string;
  sig: string;
}

export interface HistoryDb {
  audit_checkpoints: AuditCheckpointsTable;
  audit_keys: AuditKeysTable;
  edit_chunks: EditChunksTable;
  edit_log: EditLogTable;
  doc_activity: ActivityTable;
  doc_heads: DocHeadsTable;
  snapshots: SnapshotsTable;
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
      await db.schema
        .createTable("doc_activity")
        .addColumn("doc_id", "text", (c) => c.notNull())
        .addColumn("stream_seq", "bigint", (c) => c.primaryKey())
        .addColumn("at", "timestamptz", (c) => c.notNull())
        .addColumn("actor_id", "text")
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("data", "jsonb", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("doc_activity_doc_idx").on("doc_activity").columns(["doc_id", "stream_seq"]).execute();
    },
  },
  "002_snapshots": {
    async up(db) {
      await db.schema
        .createTable("doc_heads")
        .addColumn("doc_id", "text", (c) => c.primaryKey())
        .addColumn("seq", "bigint", (c) => c.notNull())
        .addColumn("stream_seq", "bigint", (c) => c.notNull())
        .addColumn("last_at", "timestamptz", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("snapshots")
        .addColumn("doc_id", "text", (c) => c.notNull())
        .addColumn("seq", "bigint", (c) => c.notNull())
        .addColumn("stream_seq", "bigint", (c) => c.notNull())
        .addColumn("created_at", "timestamptz", (c) => c.notNull())
        .addColumn("size", "integer", (c) => c.notNull())
        .addColumn("state", "bytea")
        .addColumn("s3_key", "text")
        .addPrimaryKeyConstraint("snapshots_pk", ["doc_id", "seq"])
        .execute();
    },
  },
  "003_edit_chunks": {
    async up(db) {
      await db.schema
        .createTable("edit_chunks")
        .addColumn("doc_id", "text", (c) => c.notNull())
        .addColumn("from_seq", "bigint", (c) => c.notNull())
        .addColumn("to_seq", "bigint", (c) => c.notNull())
        .addColumn("to_stream_seq", "bigint", (c) => c.notNull())
        .addColumn("update", "bytea", (c) => c.notNull())
        .addPrimaryKeyConstraint("edit_chunks_pk", ["doc_id", "from_seq"])
        .execute();
    },
  },
  "004_edit_log_update": {
    async up(db) {
      await db.schema.alterTable("edit_log").addColumn("update", "bytea").execute();
    },
  },
  "005_edit_log_via_token": {
    async up(db) {
      await db.schema.alterTable("edit_log").addColumn("via_token_id", "text").addColumn("via_name", "text").execute();
    },
  },
  "006_audit_checkpoints": {
    async up(db) {
      await db.schema
        .createTable("audit_keys")
        .addColumn("kid", "text", (c) => c.primaryKey())
        .addColumn("private_jwk", "text", (c) => c.notNull())
        .addColumn("public_jwk", "text", (c) => c.notNull())
        .addColumn("created_at", "timestamptz", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("audit_checkpoints")
        .addColumn("doc_id", "text", (c) => c.notNull())
        .addColumn("seq", "bigint", (c) => c.notNull())
        .addColumn("edit_head", "text", (c) => c.notNull())
        .addColumn("at", "text", (c) => c.notNull())
        .addColumn("kid", "text", (c) => c.notNull())
        .addColumn("sig", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("audit_checkpoints_pk", ["doc_id", "seq"])
        .execute();
    },
  },
};

/** Each projection and the tables it alone writes: what a rebuild truncates and replays. */
export const historyProjections = {
  // Chunks and snapshots are derived from the log: a rebuild (after the stream went back, they
  // may hold edits it lost) empties them too, and the snapshotter makes them again.
  "edit-log": ["edit_log", "doc_heads", "edit_chunks", "snapshots"],
  "doc-activity": ["doc_activity"],
} as const;
