import type { JsMsg } from "@nats-io/jetstream";
import type { Kysely, Transaction } from "kysely";
import type { AnyDomainEvent, DomainEvent } from "@palimpsest/contracts";
import { decodeEvent } from "@palimpsest/platform";
import type { FileRow } from "./file-records.ts";
import type { FilesDb } from "./schema.ts";

type Db = Kysely<FilesDb> | Transaction<FilesDb>;

/**
 * Applies one file event to the `files` table. Idempotent and order-tolerant, so the command path
 * (right after appending, for read-your-writes) and the projector (from the stream) can both
 * apply it: an upload inserts once, a thumbnail or a deletion only fills in its own columns, and
 * nothing brings a deleted file back. Every value comes from the event, so a rebuild gives the same rows.
 */
export async function applyFileEvent(db: Db, event: AnyDomainEvent): Promise<void> {
  switch (event.type) {
    case "file.uploaded.v1": {
      await db
        .insertInto("files")
        .values(uploadedRow(event))
        .onConflict((oc) => oc.column("file_id").doNothing())
        .execute();
      return;
    }
    case "file.thumbnail-ready.v1": {
      const d = event.data;
      await db
        .updateTable("files")
        .set({ thumb_key: d.key, thumb_type: d.contentType, thumb_size: d.size, thumb_width: d.width, thumb_height: d.height })
        .where("file_id", "=", d.fileId)
        .execute();
      return;
    }
    case "file.thumbnail-failed.v1": {
      await db
        .updateTable("files")
        .set({ thumb_failed_at: new Date(event.at) })
        .where("file_id", "=", event.data.fileId)
        .where("thumb_key", "is", null)
        .execute();
      return;
    }
    case "file.deleted.v1": {
      const d = event.data;
      await db
        .updateTable("files")
        .set({ deleted_at: new Date(event.at), deleted_reason: d.reason })
        .where("file_id", "=", d.fileId)
        .where("deleted_at", "is", null)
        .execute();
      return;
    }
    default:
      return;
  }
}

export async function applyFilesBatch(trx: Transaction<FilesDb>, msgs: JsMsg[]): Promise<void> {
  for (const m of msgs) await applyFileEvent(trx, decodeEvent(m));
}

/** The row an upload event makes: what the projector inserts, and what an upload answers with before the projector has caught up. */
export function uploadedRow(event: DomainEvent<"file.uploaded.v1">): FileRow {
  const d = event.data;
  return {
    file_id: d.fileId,
    doc_id: d.docId,
    name: d.name,
    content_type: d.contentType,
    size: d.size,
    object_key: d.key,
    uploaded_by: d.uploaderId,
    uploaded_at: new Date(event.at),
    via: d.via,
    thumb_key: null,
    thumb_type: null,
    thumb_size: null,
    thumb_width: null,
    thumb_height: null,
    thumb_failed_at: null,
    deleted_at: null,
    deleted_reason: null,
  };
}
