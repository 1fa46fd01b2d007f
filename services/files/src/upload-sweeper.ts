import type { Kysely } from "kysely";
import type { Logger } from "@palimpsest/platform";
import { UPLOADS_PREFIX } from "./file-rules.ts";
import type { ObjectStore } from "./object-store.ts";
import type { FilesMetrics } from "./files-metrics.ts";
import type { FilesDb } from "./schema.ts";

/** Clocks of the store and of this service may disagree a little; nothing younger than this is touched. */
const GRACE_MS = 60_000;

/**
 * Clears presigned uploads nobody confirmed: their reservations once expired, and whatever sits
 * under the uploads prefix without a live reservation (a PUT after a refusal, or to a URL whose
 * reservation is gone). Every replica sweeps; deleting twice is harmless.
 */
export function runUploadSweeper(opts: { db: Kysely<FilesDb>; store: ObjectStore; urlTtlSeconds: number; everyMs: number; metrics: FilesMetrics; log: Logger }): { stop(): Promise<void> } {
  const { db, store, metrics, log } = opts;
  let running: Promise<void> = Promise.resolve();

  async function sweep(): Promise<void> {
    const cutoff = new Date(Date.now() - GRACE_MS);
    const expired = await db.deleteFrom("pending_uploads").where("expires_at", "<", cutoff).returning("upload_key").execute();
    const stale: string[] = expired.map((r) => r.upload_key);
    const oldest = Date.now() - opts.urlTtlSeconds * 1000 - GRACE_MS;
    for await (const o of store.list(UPLOADS_PREFIX)) {
      if (!o.lastModified || o.lastModified.getTime() > oldest) continue;
      const fileId = o.key.slice(UPLOADS_PREFIX.length);
      const pending = await db.selectFrom("pending_uploads").select("file_id").where("file_id", "=", fileId).executeTakeFirst();
      if (!pending) stale.push(o.key);
    }
    for (let i = 0; i < stale.length; i += 500) await store.delete(stale.slice(i, i + 500));
    if (stale.length) {
      metrics.objectsDeleted.inc({ why: "abandoned-upload" }, stale.length);
      log.info({ objects: stale.length }, "cleared abandoned uploads");
    }
  }

  const timer = setInterval(() => {
    running = running.then(sweep).catch((err: unknown) => log.warn({ err }, "upload sweep failed; trying again later"));
  }, opts.everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
