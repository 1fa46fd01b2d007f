import { AppError, FileRefInput, parse } from "@palimpsest/contracts";
import { newEvent, requireCaller, type Logger, type RpcContext, type RpcResult } from "@palimpsest/platform";
import { thumbnailKey } from "./file-rules.ts";
import { toFileView, type FileRecords } from "./file-records.ts";
import type { DocAccess } from "./doc-access.ts";
import type { ObjectStore } from "./object-store.ts";
import type { Uploads } from "./uploads.ts";
import type { FilesMetrics } from "./files-metrics.ts";

/** The JSON-only file calls, answered over NATS request/reply behind gateway routes. */
export function createFilesRpc(deps: { records: FileRecords; access: DocAccess; store: ObjectStore; uploads: Uploads; metrics: FilesMetrics; log: Logger }) {
  const { records, access, store, uploads, metrics, log } = deps;
  return {
    /** `GET /api/docs/:id/files`: the document's attachments, newest first (any member). */
    async list(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const { id } = parse(FileRefInput, input, "params");
      await access.reader(id, caller, ctx.requestId);
      return { body: { items: (await records.ofDocument(id)).map(toFileView) } };
    },

    async complete(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const { id } = parse(FileRefInput, input, "params");
      const { status, view } = await uploads.complete(id, caller, ctx.requestId);
      return { status, body: view };
    },

    /** `DELETE /api/files/:id` (owner, editor): the event first; the objects go now, and again from the event should this fail. */
    async remove(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const { id } = parse(FileRefInput, input, "params");
      const row = await records.live(id);
      if (!row) throw new AppError("NOT_FOUND", "file not found");
      await access.writer(row.doc_id, caller, ctx.requestId);
      await records.append(newEvent("file.deleted.v1", { docId: row.doc_id, fileId: row.file_id, reason: "deleted" }, caller.userId));
      try {
        await store.delete([row.object_key, thumbnailKey(row.object_key)]);
        metrics.objectsDeleted.inc({ why: "deleted" }, 2);
      } catch (err) {
        log.warn({ err, fileId: row.file_id }, "could not delete a file's objects yet; the cleanup worker will");
      }
      return { status: 204, body: null };
    },
  };
}
