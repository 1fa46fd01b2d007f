import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Kysely } from "kysely";
import type { Multipart } from "@fastify/multipart";
import { fileTypeFromBuffer } from "file-type";
import { AppError, PresignUploadBody, parse, type Caller, type ErrorCode, type FileView, type PresignedUpload } from "@palimpsest/contracts";
import { newEvent, type Logger } from "@palimpsest/platform";
import { SNIFF_BYTES, checkQuota, checkSize, checkType, objectKey, safeFileName, uploadKey } from "./file-rules.ts";
import { newFileId, toFileView, type FileRecords, type FileRow } from "./file-records.ts";
import type { DocAccess } from "./doc-access.ts";
import type { ObjectStore } from "./object-store.ts";
import type { FilesMetrics } from "./files-metrics.ts";
import type { FilesConfig } from "./config.ts";
import type { FilesDb } from "./schema.ts";

/** What a multipart body may carry besides the file itself (boundaries, part headers, a name field). */
const MULTIPART_OVERHEAD = 64 * 1024;

/**
 * Browsers escape three characters of a multipart file name (WHATWG HTML, "multipart/form-data
 * encoding algorithm"): `"` as %22, CR as %0D, LF as %0A. Only those are undone.
 */
function multipartFileName(name: string): string {
  return name.replace(/%(22|0D|0A)/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * What the multipart parser throws for a body that breaks the rules (too many parts, a malformed
 * form), as the API's errors; anything else is the service's own failure and stays as it is.
 */
function multipartError(err: unknown): unknown {
  if (err instanceof AppError) return err;
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown };
  const message = typeof e.message === "string" ? e.message : "the multipart body is malformed";
  if (e.code === "FST_FILES_LIMIT") return new AppError("VALIDATION_FAILED", "send one file per request", { cause: err });
  if (typeof e.code === "string" && e.code.startsWith("FST_")) return new AppError("VALIDATION_FAILED", `the multipart body is not acceptable: ${message}`, { cause: err });
  if (/unexpected end of|malformed|boundary/i.test(message)) return new AppError("VALIDATION_FAILED", `the multipart body is malformed: ${message}`, { cause: err });
  return err;
}

/** Failures that mean "this upload is refused", as opposed to "try again": only these discard what was sent. */
const REFUSALS: ReadonlySet<ErrorCode> = new Set(["PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE", "QUOTA_EXCEEDED", "VALIDATION_FAILED", "FORBIDDEN", "NOT_FOUND"]);
const isRefusal = (err: unknown) => err instanceof AppError && REFUSALS.has(err.code);

interface Spooled {
  path: string;
  size: number;
  head: Buffer;
  truncated: boolean;
}

export interface UploadDeps {
  config: FilesConfig;
  db: Kysely<FilesDb>;
  store: ObjectStore;
  records: FileRecords;
  access: DocAccess;
  metrics: FilesMetrics;
  log: Logger;
}

export type Uploads = ReturnType<typeof createUploads>;

/**
 * The two ways in. Streamed: the multipart body is spooled to a temporary file while its first
 * bytes are kept for sniffing; nothing reaches the store until size, real type and quota pass.
 * Presigned: the client PUTs to the store directly, then confirms; the object is checked where it
 * landed (size, a ranged read of its first bytes) and moved into place, or deleted.
 */
export function createUploads(deps: UploadDeps) {
  const { config, db, store, records, access, metrics } = deps;
  const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), "palimpsest-files-"));

  async function spool(file: Readable & { truncated?: boolean }): Promise<Spooled> {
    const target = path.join(spoolDir, randomUUID());
    const chunks: Buffer[] = [];
    let kept = 0;
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.byteLength;
        if (kept < SNIFF_BYTES) {
          chunks.push(chunk.subarray(0, SNIFF_BYTES - kept));
          kept += Math.min(chunk.byteLength, SNIFF_BYTES - kept);
        }
        done(null, chunk);
      },
    });
    try {
      await pipeline(file, tap, fs.createWriteStream(target));
    } catch (err) {
      await fs.promises.rm(target, { force: true });
      throw err;
    }
    return { path: target, size, head: Buffer.concat(chunks), truncated: file.truncated === true };
  }

  async function sniff(head: Uint8Array): Promise<string | undefined> {
    return (await fileTypeFromBuffer(head))?.mime;
  }

  /** A purge that raced this upload would have missed it: if the document is gone by now, so is the file. */
  async function settle(row: FileRow, caller: Caller, requestId: string): Promise<void> {
    const now = await access.lookup(row.doc_id, caller.userId, requestId).catch(() => undefined);
    if (now && now.kind === null) {
      await records.append(newEvent("file.deleted.v1", { docId: row.doc_id, fileId: row.file_id, reason: "purged" }, caller.userId));
      await store.delete([row.object_key]);
    }
  }

  function count<T>(via: "service" | "presigned", work: Promise<T>): Promise<T> {
    return work.then(
      (v) => {
        metrics.uploads.inc({ via, outcome: "stored" });
        return v;
      },
      (err: unknown) => {
        metrics.uploads.inc({ via, outcome: err instanceof AppError ? err.code : "INTERNAL" });
        throw err;
      },
    );
  }

  return {
    /** `POST /api/docs/:id/files` with a multipart body: one file part, and optionally a `name` field. */
    streamed(docId: string, caller: Caller, requestId: string, declaredLength: number | undefined, parts: () => AsyncIterableIterator<Multipart>): Promise<FileView> {
      return count("service", (async () => {
        await access.writer(docId, caller, requestId);
        const tooLarge = () =>
          new AppError("PAYLOAD_TOO_LARGE", `an upload through the service takes at most ${config.maxStreamedBytes} bytes; use a presigned upload for larger files`, {
            details: { max: config.maxStreamedBytes },
          });
        // Refused before reading a byte of it: the declared length already says it cannot fit.
        if (declaredLength !== undefined && declaredLength > config.maxStreamedBytes + MULTIPART_OVERHEAD) throw tooLarge();
        let spooled: Spooled | undefined;
        let fileName: string | undefined;
        let nameField: string | undefined;
        try {
          try {
            for await (const part of parts()) {
              if (part.type === "file") {
                fileName = multipartFileName(part.filename);
                spooled = await spool(part.file);
              } else if (part.fieldname === "name" && typeof part.value === "string") {
                nameField = part.value;
              }
            }
          } catch (err) {
            throw multipartError(err);
          }
          if (!spooled) throw new AppError("VALIDATION_FAILED", "send the file as a multipart part (field name: file)");
          if (spooled.truncated) throw tooLarge();
          if (spooled.size === 0) throw new AppError("VALIDATION_FAILED", "the file is empty");
          checkSize(spooled.size, config.maxBytes, "an upload");
          const contentType = checkType(await sniff(spooled.head), config.allowedTypes);
          checkQuota(await records.usedBytes(caller.userId), spooled.size, config.quotaBytes);

          const fileId = newFileId();
          const key = objectKey(docId, fileId);
          const size = spooled.size;
          await store.put(key, fs.createReadStream(spooled.path), size, contentType);
          const event = newEvent(
            "file.uploaded.v1",
            { docId, fileId, uploaderId: caller.userId, name: safeFileName(nameField ?? fileName), contentType, size, key, via: "service" },
            caller.userId,
          );
          let row: FileRow;
          try {
            row = await records.recordUpload(event, (used) => checkQuota(used, size, config.quotaBytes));
          } catch (err) {
            await store.delete([key]);
            throw err;
          }
          metrics.uploadedBytes.inc({ via: "service" }, size);
          await settle(row, caller, requestId);
          return toFileView(row);
        } finally {
          if (spooled) await fs.promises.rm(spooled.path, { force: true });
        }
      })());
    },

    /** `POST /api/docs/:id/files` with JSON `{name, size, contentType}`: where to PUT the bytes. */
    async presign(docId: string, caller: Caller, requestId: string, input: unknown): Promise<PresignedUpload> {
      const body = parse(PresignUploadBody, input, "body");
      await access.writer(docId, caller, requestId);
      checkSize(body.size, config.maxBytes, "an upload");
      // What the client claims is only a first filter; the bytes decide when the upload is confirmed.
      checkType(body.contentType, config.allowedTypes);
      const [used, reserved] = await Promise.all([records.usedBytes(caller.userId), records.reservedBytes(caller.userId)]);
      checkQuota(used + reserved, body.size, config.quotaBytes);
      const fileId = newFileId();
      const key = uploadKey(fileId);
      const signedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
      const expiresAt = new Date(signedAt.getTime() + config.uploadUrlTtlSeconds * 1000);
      await db
        .insertInto("pending_uploads")
        .values({ file_id: fileId, doc_id: docId, user_id: caller.userId, name: safeFileName(body.name), claimed_type: body.contentType, size: body.size, upload_key: key, expires_at: expiresAt })
        .execute();
      const uploadUrl = await store.presignPut(key, body.size, body.contentType, config.uploadUrlTtlSeconds, signedAt);
      return {
        fileId,
        uploadUrl,
        method: "PUT",
        headers: { "content-type": body.contentType },
        expiresAt: expiresAt.toISOString(),
        completeUrl: `/api/files/${fileId}/complete`,
      };
    },

    /** `POST /api/files/:id/complete`: checks what was PUT and records it, or deletes it and says why. */
    complete(fileId: string, caller: Caller, requestId: string): Promise<{ status: number; view: FileView }> {
      return count("presigned", (async () => {
        const pending = await db.selectFrom("pending_uploads").selectAll().where("file_id", "=", fileId).executeTakeFirst();
        if (!pending || pending.user_id !== caller.userId) {
          // A retried confirmation of an upload already recorded answers as the first one did.
          const done = await records.live(fileId);
          if (done && done.uploaded_by === caller.userId && done.via === "presigned") return { status: 200, view: toFileView(done) };
          throw new AppError("NOT_FOUND", "no upload in progress with this id");
        }
        const forget = () => db.deleteFrom("pending_uploads").where("file_id", "=", fileId).execute();
        const discard = async () => {
          await store.delete([pending.upload_key]);
          await forget();
        };
        const info = await store.head(pending.upload_key);
        if (!info) {
          if (pending.expires_at.getTime() < Date.now()) {
            await forget();
            throw new AppError("NOT_FOUND", "the upload URL expired before anything was uploaded; ask for a new one");
          }
          throw new AppError("VALIDATION_FAILED", "nothing has been uploaded yet: PUT the file to its uploadUrl first");
        }
        // The upload URL takes PUTs until it expires, so the object under it can be replaced at any
        // moment: what is checked is a copy only this service can write, and that copy is what is kept.
        const key = objectKey(pending.doc_id, fileId);
        let contentType: string;
        let size: number;
        try {
          checkSize(info.size, config.maxBytes, "an upload");
          await store.copy(pending.upload_key, key, pending.claimed_type);
          const copied = await store.head(key);
          if (!copied) throw new Error(`the copy of ${pending.upload_key} is missing from the store`);
          size = copied.size;
          checkSize(size, config.maxBytes, "an upload");
          if (size !== Number(pending.size)) {
            throw new AppError("VALIDATION_FAILED", `${size} bytes were uploaded, ${pending.size} were announced`, { details: { uploaded: size, announced: Number(pending.size) } });
          }
          contentType = checkType(await sniff(await store.readStart(key, SNIFF_BYTES)), config.allowedTypes);
          await access.writer(pending.doc_id, caller, requestId);
          checkQuota(await records.usedBytes(caller.userId), size, config.quotaBytes);
          // The stored type is what the bytes are, not what the uploader claimed.
          if (contentType !== pending.claimed_type) await store.copy(key, key, contentType);
        } catch (err) {
          await store.delete([key]);
          if (isRefusal(err)) await discard();
          throw err;
        }
        const event = newEvent(
          "file.uploaded.v1",
          { docId: pending.doc_id, fileId, uploaderId: caller.userId, name: pending.name, contentType, size, key, via: "presigned" },
          caller.userId,
        );
        let row: FileRow;
        try {
          row = await records.recordUpload(event, (used) => checkQuota(used, size, config.quotaBytes));
        } catch (err) {
          await store.delete(isRefusal(err) ? [key, pending.upload_key] : [key]);
          if (isRefusal(err)) await forget();
          throw err;
        }
        await discard();
        metrics.uploadedBytes.inc({ via: "presigned" }, size);
        await settle(row, caller, requestId);
        return { status: 201, view: toFileView(row) };
      })());
    },

    async close(): Promise<void> {
      await fs.promises.rm(spoolDir, { recursive: true, force: true });
    },
  };
}
