import { commonConfig, env, loadConfig, type ConfigOf } from "@palimpsest/platform";

const MiB = 1024 * 1024;

export const filesConfigSpec = {
  ...commonConfig,
  port: env.int("PORT", 8084, "files service HTTP port (health, metrics)", { min: 0, max: 65535 }),
  /**
   * Gateways find replicas by what they announce, so there is no list to keep up to date; set it
   * when the gateways must use another address than the one the replica listens on (a proxy, DNS).
   */
  advertiseUrl: env.optionalString("ADVERTISE_URL", "URL the gateways reach this replica at, announced over NATS (default ws://HOST:PORT for sync, http://HOST:PORT for files; HOST=0.0.0.0 announces this machine's address)"),
  /** The largest file either way. Presigned uploads are checked against it when asked for and again when confirmed. */
  maxBytes: env.int("FILES_MAX_BYTES", 100 * MiB, "largest file accepted (bytes)", { min: 1 }),
  /**
   * Uploads streamed through the service are spooled to a temporary file before anything reaches
   * the store, so this bounds the disk one request may use; larger files use a presigned upload.
   */
  maxStreamedBytes: env.int("FILES_MAX_STREAMED_BYTES", 25 * MiB, "largest multipart upload through the service (bytes); larger files use a presigned upload", { min: 1 }),
  quotaBytes: env.int("FILES_QUOTA_BYTES", 1024 * MiB, "bytes of live files one user may have uploaded, over all documents", { min: 1 }),
  allowedTypes: env.list(
    "FILES_ALLOWED_TYPES",
    ["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "application/pdf"],
    "file types accepted, as their bytes say (comma-separated MIME types)",
  ),
  uploadUrlTtlSeconds: env.int("FILES_UPLOAD_URL_TTL_SECONDS", 900, "lifetime of a presigned upload URL", { min: 1, max: 604_800 }),
  downloadUrlTtlSeconds: env.int("FILES_DOWNLOAD_URL_TTL_SECONDS", 300, "lifetime of a presigned download URL (GET /api/files/:id?redirect=true)", { min: 1, max: 604_800 }),
  /**
   * Presigned URLs name the store's host, which clients must reach: behind a cluster the services
   * may talk to an internal endpoint while browsers need the public one.
   */
  s3PublicEndpoint: env.optionalString("S3_PUBLIC_ENDPOINT", "S3 endpoint written into presigned URLs for clients (default S3_ENDPOINT)"),
  thumbnailSize: env.int("FILES_THUMBNAIL_SIZE", 320, "longest side of an image thumbnail (pixels)", { min: 16, max: 2048 }),
  /**
   * A small file can claim a huge image (a "pixel bomb"): decoding it takes width × height × 4
   * bytes of memory. 40 MP covers the photos of today's cameras (about 160 MB to decode, two at a time).
   */
  thumbnailMaxPixels: env.int("FILES_THUMBNAIL_MAX_PIXELS", 40_000_000, "largest image (width × height, as its header says) a thumbnail is made of; larger ones get none, without being decoded", { min: 1 }),
  sweepSeconds: env.int("FILES_SWEEP_SECONDS", 60, "how often abandoned presigned uploads are cleared from the store", { min: 1 }),
} as const;

export type FilesConfig = ConfigOf<typeof filesConfigSpec>;
export const loadFilesConfig = (source: NodeJS.ProcessEnv = process.env): FilesConfig => loadConfig(filesConfigSpec, source);
