import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import multipart from "@fastify/multipart";
import { AppError, DocIdParams, FileDownloadQuery, FileIdParams, type Caller, type FileDownloadQuery as DownloadQuery } from "@palimpsest/contracts";
import type { TokenVerifier } from "@palimpsest/platform";
import { contentDisposition, dispositionFor, etagOf, matchesEtag } from "./file-rules.ts";
import type { FileRecords } from "./file-records.ts";
import type { DocAccess } from "./doc-access.ts";
import type { ObjectStore } from "./object-store.ts";
import type { Uploads } from "./uploads.ts";
import type { FilesMetrics } from "./files-metrics.ts";
import type { FilesConfig } from "./config.ts";

export interface FileRoutesDeps {
  config: FilesConfig;
  verifier: TokenVerifier;
  records: FileRecords;
  access: DocAccess;
  store: ObjectStore;
  uploads: Uploads;
  metrics: FilesMetrics;
}

/**
 * Every answer about a file's bytes is permission-checked, so caches may keep it only for this
 * user and must ask again (a 304 after the check costs nothing: the ETag is the file id).
 */
const CACHE_CONTROL = "private, no-cache";

/**
 * The routes that carry bytes, at the same paths as the public API: the gateway authenticates,
 * rate-limits and streams them here. The access token is verified again here, so reaching this
 * port directly grants nothing a token does not.
 */
export async function registerFileRoutes(http: FastifyInstance, deps: FileRoutesDeps): Promise<void> {
  const { config, verifier, records, access, store, uploads, metrics } = deps;

  await http.register(multipart, {
    throwFileSizeLimit: false,
    limits: { fileSize: config.maxStreamedBytes, files: 1, fields: 4, fieldSize: 1024, parts: 6, headerPairs: 100 },
  });

  async function caller(req: FastifyRequest): Promise<Caller> {
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "");
    if (!match?.[1]) throw new AppError("UNAUTHENTICATED", "send an access token as 'Authorization: Bearer <token>'");
    const claims = await verifier.verify(match[1]);
    return { userId: claims.userId, sessionId: claims.sessionId, ...(claims.token ? { token: claims.token } : {}) };
  }

  http.post("/api/docs/:id/files", { schema: { params: DocIdParams } }, async (req, reply) => {
    const who = await caller(req);
    const { id } = req.params as { id: string };
    if (req.isMultipart()) {
      const length = Number(req.headers["content-length"]);
      const view = await uploads.streamed(id, who, req.id, Number.isFinite(length) ? length : undefined, () => req.parts());
      return reply.status(201).header("location", view.url).send(view);
    }
    return reply.status(201).send(await uploads.presign(id, who, req.id, req.body));
  });

  async function download(req: FastifyRequest, reply: FastifyReply, variant: "original" | "thumbnail"): Promise<FastifyReply> {
    const who = await caller(req);
    const { id } = req.params as { id: string };
    const query = req.query as DownloadQuery;
    const row = await records.live(id);
    if (!row) throw new AppError("NOT_FOUND", "file not found");
    // Members of any role may read; strangers, and everyone while the document is in the trash, get 404.
    await access.reader(row.doc_id, who, req.id);
    const thumb = variant === "thumbnail";
    if (thumb && !row.thumb_key) throw new AppError("NOT_FOUND", "this file has no thumbnail (yet)");
    const key = thumb ? (row.thumb_key as string) : row.object_key;
    const type = thumb ? (row.thumb_type ?? "image/webp") : row.content_type;
    const name = thumb ? `${row.name.replace(/\.[^.]*$/, "")}.thumbnail.webp` : row.name;
    const etag = etagOf(row.file_id, variant);
    const disposition = contentDisposition(dispositionFor(type, query.download), name);
    reply.header("etag", etag).header("cache-control", CACHE_CONTROL).header("vary", "Authorization");
    if (matchesEtag(req.headers["if-none-match"], etag)) {
      metrics.downloads.inc({ variant, mode: "not-modified" });
      return reply.status(304).send();
    }
    if (query.redirect) {
      const url = await store.presignGet(key, config.downloadUrlTtlSeconds, {
        contentType: type,
        contentDisposition: disposition,
        cacheControl: `private, max-age=${config.downloadUrlTtlSeconds}`,
      });
      metrics.downloads.inc({ variant, mode: "redirect" });
      // The URL itself expires: nobody may cache the redirect.
      return reply.header("cache-control", "no-store").redirect(url, 302);
    }
    // A client that goes away before the store answers should not leave the request to the store running.
    const abort = new AbortController();
    const gone = () => {
      if (!reply.raw.writableFinished) abort.abort();
    };
    reply.raw.once("close", gone);
    const object = await store.get(key, abort.signal);
    if (!object) {
      req.log.warn({ fileId: row.file_id, key }, "a recorded file is missing from the store");
      throw new AppError("NOT_FOUND", "file not found");
    }
    const size = object.contentLength ?? Number(thumb ? row.thumb_size : row.size);
    metrics.downloads.inc({ variant, mode: "stream" });
    metrics.streamedBytes.inc({ variant }, size);
    return reply
      .status(200)
      .type(type)
      .header("content-length", size)
      .header("content-disposition", disposition)
      // What the store holds was checked when it was accepted; the browser must not guess otherwise.
      .header("x-content-type-options", "nosniff")
      .send(object.body);
  }

  const downloadSchema = { params: FileIdParams, querystring: FileDownloadQuery };
  http.get("/api/files/:id", { schema: downloadSchema }, (req, reply) => download(req, reply, "original"));
  http.get("/api/files/:id/thumbnail", { schema: downloadSchema }, (req, reply) => download(req, reply, "thumbnail"));
}
