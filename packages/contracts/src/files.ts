import { Type, type Static } from "@sinclair/typebox";
import { SAFE_ID_PATTERN } from "./ids.ts";

/**
 * REST and RPC shapes of file attachments (`POST /api/docs/:id/files`, `GET /api/files/:id` ...).
 * Uploads and downloads carry bytes, so the gateway streams them to the files service over HTTP;
 * the JSON-only calls (list, complete, delete) go over NATS request/reply like every other route.
 */
const Id = Type.String({ pattern: SAFE_ID_PATTERN });

export const FileIdParams = Type.Object({ id: Id }, { additionalProperties: false });

/** Asks for a presigned upload: the client then PUTs the bytes to `uploadUrl` and calls `complete`. */
export const PresignUploadBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255 }),
    size: Type.Integer({ minimum: 1 }),
    contentType: Type.String({ minLength: 3, maxLength: 127 }),
  },
  { additionalProperties: false },
);
export type PresignUploadBody = Static<typeof PresignUploadBody>;

export const FileDownloadQuery = Type.Object(
  {
    /** `true`: answer 302 to a short-lived presigned URL of the object store instead of streaming. */
    redirect: Type.Optional(Type.Boolean()),
    /** `true`: `Content-Disposition: attachment` (save), else inline for images. */
    download: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type FileDownloadQuery = Static<typeof FileDownloadQuery>;

/** RPC input of list (a document id), complete and remove (a file id). */
export const FileRefInput = Type.Object({ id: Id }, { additionalProperties: false });

export type ThumbnailState = "ready" | "pending" | "failed" | "none";

export interface FileView {
  id: string;
  docId: string;
  name: string;
  /** What the bytes are, as sniffed when the upload was accepted. */
  contentType: string;
  size: number;
  uploadedBy: string;
  uploadedAt: string;
  via: "service" | "presigned";
  /** `pending` until the thumbnail worker has made it; `failed` when the image could not be decoded; `none` for files that get no thumbnail. */
  thumbnail: ThumbnailState;
  /** Where to download it (permission-checked; add `?redirect=true` for a presigned URL). */
  url: string;
  /** Where its thumbnail is, once `thumbnail` is `ready`. */
  thumbnailUrl: string | null;
}

export interface PresignedUpload {
  fileId: string;
  /** PUT the bytes here, with exactly the headers below, before `expiresAt`. */
  uploadUrl: string;
  method: "PUT";
  headers: Record<string, string>;
  expiresAt: string;
  /** POST here (no body) once the PUT succeeded; the upload counts only after that. */
  completeUrl: string;
}
