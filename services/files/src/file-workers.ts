import { buffer } from "node:stream/consumers";
import sharp, { type OutputInfo } from "sharp";
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { Streams, subjects, type AnyDomainEvent, type DomainEvent, type EventPayload } from "@palimpsest/contracts";
import { decodeEvent, discardConsumer, type DurableWorkerSpec, type Logger } from "@palimpsest/platform";
import { hasThumbnail, liveFiles, objectKey, oversizedImage, thumbnailKey } from "./file-rules.ts";
import type { FileRecords } from "./file-records.ts";
import type { ObjectStore } from "./object-store.ts";
import type { FilesMetrics } from "./files-metrics.ts";

interface WorkerDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  records: FileRecords;
  store: ObjectStore;
  metrics: FilesMetrics;
  log: Logger;
}

/**
 * Events this service stores on behalf of another event carry an id derived from it, so a
 * redelivered job (its replica died after storing, before acking) is stored once.
 */
const derivedEvent = <T extends "file.thumbnail-ready.v1" | "file.thumbnail-failed.v1" | "file.deleted.v1">(id: string, type: T, data: EventPayload<T>, actorId?: string): DomainEvent<T> => ({
  id,
  type,
  at: new Date().toISOString(),
  ...(actorId ? { actorId } : {}),
  data,
});

/**
 * Image thumbnails, made from the file-uploaded event: scaled to fit `size` (never enlarged),
 * turned upright from EXIF, WebP, stored beside the original; then a thumbnail-ready event.
 * An image sharp cannot decode gets a thumbnail-failed event at once: the same bytes will not
 * decode on a retry. Failing to read the original or to store the thumbnail is retried instead.
 */
export function thumbnailWorker(deps: WorkerDeps & { size: number; maxPixels: number }): DurableWorkerSpec {
  const { records, store, metrics, size, maxPixels } = deps;
  const failed = async (d: { docId: string; fileId: string }, reason: string, outcome: "undecodable" | "too-large") => {
    await records.append(derivedEvent(`${d.fileId}.thumbnail-failed`, "file.thumbnail-failed.v1", { docId: d.docId, fileId: d.fileId, reason: reason.slice(0, 500) }));
    metrics.thumbnails.inc({ outcome });
  };
  return {
    durable: "files-thumbnails",
    stream: Streams.docs,
    filterSubject: subjects.allFileEvents(),
    ackWaitMs: 60_000,
    maxDeliver: 5,
    inFlight: 2,
    async handle(m) {
      const event = decodeEvent(m);
      if (event.type !== "file.uploaded.v1" || !hasThumbnail(event.data.contentType)) return "done";
      const d = event.data;
      const log = deps.log.child({ fileId: d.fileId, docId: d.docId, seq: m.seq });
      const known = await records.live(d.fileId);
      if (known?.thumb_key || known?.thumb_failed_at) return "done";
      const started = performance.now();
      const object = await store.get(d.key);
      // Deleted before its turn came: nothing to do.
      if (!object) return "done";
      const input = await buffer(object.body);
      let out: { data: Buffer; info: OutputInfo };
      try {
        // The header alone says how large the decoded image would be; a pixel bomb stops here.
        const meta = await sharp(input).metadata();
        const tooLarge = oversizedImage(meta.width, meta.height, maxPixels);
        if (tooLarge) {
          log.info({ width: meta.width, height: meta.height }, "no thumbnail: the image is too large to decode");
          await failed(d, tooLarge, "too-large");
          return "done";
        }
      } catch (err) {
        log.warn({ err }, "could not read an image's header to make its thumbnail");
        await failed(d, err instanceof Error && err.message.trim() !== "" ? err.message.trim() : "the image could not be decoded", "undecodable");
        return "done";
      }
      try {
        // The same bound inside the decoder, should the header and the data disagree.
        out = await sharp(input, { failOn: "error", limitInputPixels: maxPixels })
          .rotate()
          .resize(size, size, { fit: "inside", withoutEnlargement: true })
          .webp({ quality: 80 })
          .toBuffer({ resolveWithObject: true });
      } catch (err) {
        log.warn({ err }, "could not decode an image to make its thumbnail");
        await failed(d, err instanceof Error && err.message.trim() !== "" ? err.message.trim() : "the image could not be decoded", "undecodable");
        return "done";
      }
      const key = thumbnailKey(d.key);
      await store.put(key, out.data, out.data.byteLength, "image/webp");
      await records.append(
        derivedEvent(`${d.fileId}.thumbnail`, "file.thumbnail-ready.v1", {
          docId: d.docId,
          fileId: d.fileId,
          key,
          contentType: "image/webp",
          size: out.data.byteLength,
          width: out.info.width,
          height: out.info.height,
        }),
      );
      metrics.thumbnails.inc({ outcome: "made" });
      metrics.thumbnailSeconds.observe((performance.now() - started) / 1000);
      log.debug({ width: out.info.width, height: out.info.height }, "thumbnail made");
      return "done";
    },
  };
}

/**
 * Removes a deleted file's objects (the delete call tries at once; this makes sure), and a
 * thumbnail that was finished after its file was deleted.
 */
export function cleanupWorker(deps: WorkerDeps): DurableWorkerSpec {
  const { records, store, metrics } = deps;
  return {
    durable: "files-cleanup",
    stream: Streams.docs,
    filterSubject: subjects.allFileEvents(),
    ackWaitMs: 30_000,
    maxDeliver: 20,
    inFlight: 16,
    async handle(m) {
      const event = decodeEvent(m);
      if (event.type === "file.deleted.v1") {
        const key = objectKey(event.data.docId, event.data.fileId);
        await store.delete([key, thumbnailKey(key)]);
        metrics.objectsDeleted.inc({ why: event.data.reason }, 2);
      } else if (event.type === "file.thumbnail-ready.v1") {
        if (await records.isDeleted(event.data.fileId)) await store.delete([event.data.key]);
      }
      return "done";
    },
  };
}

/** A purged document's files: every one still attached gets a deleted event (the cleanup worker then removes the objects). */
export function purgeWorker(deps: WorkerDeps): DurableWorkerSpec {
  const { js, jsm, records } = deps;

  /** The document's file events, read from the stream itself: the read model may not have caught up. */
  async function fileEvents(docId: string): Promise<AnyDomainEvent[]> {
    const subject = subjects.fileEvents(docId);
    const last = await jsm.streams.getMessage(Streams.docs, { last_by_subj: subject });
    if (!last) return [];
    const consumer = await js.consumers.get(Streams.docs, { filter_subjects: subject, deliver_policy: DeliverPolicy.All });
    const messages = await consumer.consume({ max_messages: 500 });
    const out: AnyDomainEvent[] = [];
    try {
      for await (const m of messages) {
        out.push(decodeEvent(m));
        if (m.seq >= last.seq) break;
      }
    } finally {
      discardConsumer(consumer, messages);
    }
    return out;
  }

  return {
    durable: "files-purge",
    stream: Streams.docs,
    filterSubject: subjects.allDocEvents(),
    ackWaitMs: 60_000,
    maxDeliver: 20,
    inFlight: 8,
    async handle(m) {
      const event = decodeEvent(m);
      if (event.type !== "doc.purged.v1") return "done";
      const docId = event.data.docId;
      const files = liveFiles(await fileEvents(docId));
      for (const f of files) {
        await records.append(derivedEvent(`${f.fileId}.purged`, "file.deleted.v1", { docId, fileId: f.fileId, reason: "purged" }, event.actorId));
      }
      if (files.length) deps.log.info({ docId, files: files.length }, "purged document: its files are deleted");
      return "done";
    },
  };
}
