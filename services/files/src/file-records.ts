import { randomUUID } from "node:crypto";
import { sql, type Kysely, type Selectable, type Transaction } from "kysely";
import type { JetStreamClient } from "@nats-io/jetstream";
import { subjects, type AnyDomainEvent, type DomainEvent, type FileView } from "@palimpsest/contracts";
import { appendEvent } from "@palimpsest/platform";
import { applyFileEvent, uploadedRow } from "./files-projection.ts";
import { hasThumbnail } from "./file-rules.ts";
import type { FilesDb, FilesTable } from "./schema.ts";

export type FileRow = Selectable<FilesTable>;

export function toFileView(r: FileRow): FileView {
  return {
    id: r.file_id,
    docId: r.doc_id,
    name: r.name,
    contentType: r.content_type,
    size: Number(r.size),
    uploadedBy: r.uploaded_by,
    uploadedAt: r.uploaded_at.toISOString(),
    via: r.via,
    thumbnail: r.thumb_key ? "ready" : r.thumb_failed_at ? "failed" : hasThumbnail(r.content_type) ? "pending" : "none",
    url: `/api/files/${r.file_id}`,
    thumbnailUrl: r.thumb_key ? `/api/files/${r.file_id}/thumbnail` : null,
  };
}

/**
 * The files read model and the file events that change it. Every change is an event on
 * `docs.file.<docId>`, applied here right after it is stored so the caller reads its own write;
 * the projector applies it again from the stream, harmlessly.
 */
export class FileRecords {
  constructor(
    private readonly db: Kysely<FilesDb>,
    private readonly js: JetStreamClient,
  ) {}

  async live(fileId: string): Promise<FileRow | undefined> {
    return this.db.selectFrom("files").selectAll().where("file_id", "=", fileId).where("deleted_at", "is", null).executeTakeFirst();
  }

  async isDeleted(fileId: string): Promise<boolean> {
    const r = await this.db.selectFrom("files").select("file_id").where("file_id", "=", fileId).where("deleted_at", "is not", null).executeTakeFirst();
    return r !== undefined;
  }

  async ofDocument(docId: string): Promise<FileRow[]> {
    return this.db.selectFrom("files").selectAll().where("doc_id", "=", docId).where("deleted_at", "is", null).orderBy("uploaded_at", "desc").orderBy("file_id").execute();
  }

  /** Bytes of the user's live files. */
  async usedBytes(userId: string, db: Kysely<FilesDb> | Transaction<FilesDb> = this.db): Promise<number> {
    const r = await db
      .selectFrom("files")
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>("size"), sql<number>`0`).as("used"))
      .where("uploaded_by", "=", userId)
      .where("deleted_at", "is", null)
      .executeTakeFirst();
    return Number(r?.used ?? 0);
  }

  /** Bytes the user has asked to upload by presigned URL and not confirmed yet, still within their time. */
  async reservedBytes(userId: string): Promise<number> {
    const r = await this.db
      .selectFrom("pending_uploads")
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>("size"), sql<number>`0`).as("reserved"))
      .where("user_id", "=", userId)
      .where("expires_at", ">", new Date())
      .executeTakeFirst();
    return Number(r?.reserved ?? 0);
  }

  async append(event: AnyDomainEvent & { data: { docId: string } }, db: Kysely<FilesDb> | Transaction<FilesDb> = this.db): Promise<number> {
    const { streamSeq } = await appendEvent(this.js, subjects.fileEvents(event.data.docId), event);
    await applyFileEvent(db, event);
    return streamSeq;
  }

  /**
   * Records an upload whose bytes are already in place, if the uploader's quota allows: the
   * check and the event happen under a per-user lock, so two concurrent uploads cannot both
   * squeeze under the quota. When it throws, nothing was stored and the caller must remove the object.
   */
  async recordUpload(event: DomainEvent<"file.uploaded.v1">, check: (usedBytes: number) => void): Promise<FileRow> {
    let stored = false;
    try {
      await this.db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(hashtext('files-quota'), hashtext(${event.data.uploaderId}))`.execute(trx);
        check(await this.usedBytes(event.data.uploaderId, trx));
        await appendEvent(this.js, subjects.fileEvents(event.data.docId), event);
        stored = true;
        await applyFileEvent(trx, event);
      });
    } catch (err) {
      // Once the event is in the stream the file exists: the projector will record it.
      if (!stored) throw err;
    }
    const row = await this.db.selectFrom("files").selectAll().where("file_id", "=", event.data.fileId).executeTakeFirst();
    return row ?? uploadedRow(event);
  }
}

export const newFileId = () => randomUUID();
