import { Counter, Histogram } from "prom-client";
import type { Metrics } from "@palimpsest/platform";

export type FilesMetrics = ReturnType<typeof createFilesMetrics>;

/** What the files service counts beyond the shared HTTP, RPC and projection metrics. */
export function createFilesMetrics(metrics: Metrics) {
  const registers = [metrics.registry];
  return {
    uploads: new Counter({
      name: "files_uploads_total",
      help: "uploads by way (service, presigned) and outcome (stored, or the error code that refused them)",
      labelNames: ["via", "outcome"] as const,
      registers,
    }),
    uploadedBytes: new Counter({ name: "files_uploaded_bytes_total", help: "bytes of stored uploads", labelNames: ["via"] as const, registers }),
    downloads: new Counter({
      name: "files_downloads_total",
      help: "downloads by variant (original, thumbnail) and how they were answered (stream, redirect, not-modified)",
      labelNames: ["variant", "mode"] as const,
      registers,
    }),
    streamedBytes: new Counter({ name: "files_streamed_bytes_total", help: "bytes streamed to clients", labelNames: ["variant"] as const, registers }),
    thumbnails: new Counter({ name: "files_thumbnails_total", help: "thumbnail jobs by outcome", labelNames: ["outcome"] as const, registers }),
    thumbnailSeconds: new Histogram({
      name: "files_thumbnail_duration_seconds",
      help: "time to read an image, scale it and store its thumbnail",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    objectsDeleted: new Counter({ name: "files_objects_deleted_total", help: "objects removed from the store", labelNames: ["why"] as const, registers }),
  };
}
