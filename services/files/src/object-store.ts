import type { Readable } from "node:stream";
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

export interface StoredObject {
  body: Readable;
  contentLength: number | undefined;
}

export interface ObjectInfo {
  size: number;
  lastModified: Date | undefined;
}

function isMissing(err: unknown): boolean {
  if (err instanceof NoSuchKey || err instanceof NotFound) return true;
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === "NoSuchKey" || e.name === "NotFound" || e.$metadata?.httpStatusCode === 404;
}

/**
 * The object store as this service uses it, over @aws-sdk/client-s3 only, so any S3-compatible
 * store works. `presigner` signs URLs for clients; it differs from `s3` only in its endpoint.
 */
export class ObjectStore {
  constructor(
    private readonly s3: S3Client,
    private readonly presigner: S3Client,
    readonly bucket: string,
  ) {}

  async put(key: string, body: Readable | Buffer, contentLength: number, contentType: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: contentLength, ContentType: contentType }));
  }

  /** The object's size, or undefined when there is none. */
  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const h = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: h.ContentLength ?? 0, lastModified: h.LastModified };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  /** The first `bytes` bytes (fewer when the object is shorter), by a ranged GET. */
  async readStart(key: string, bytes: number): Promise<Uint8Array> {
    const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=0-${bytes - 1}` }));
    if (!res.Body) return new Uint8Array();
    const all = await res.Body.transformToByteArray();
    // A store that ignores Range sends everything; only the start is wanted.
    return all.byteLength > bytes ? all.subarray(0, bytes) : all;
  }

  async get(key: string, signal?: AbortSignal): Promise<StoredObject | undefined> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), signal ? { abortSignal: signal } : {});
      if (!res.Body) return undefined;
      return { body: res.Body as Readable, contentLength: res.ContentLength };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async copy(from: string, to: string, contentType: string): Promise<void> {
    await this.s3.send(
      new CopyObjectCommand({
        Bucket: this.bucket,
        Key: to,
        CopySource: `${this.bucket}/${from.split("/").map(encodeURIComponent).join("/")}`,
        ContentType: contentType,
        MetadataDirective: "REPLACE",
      }),
    );
  }

  /** Deletes the keys; a key that does not exist is not an error. */
  async delete(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    const res = await this.s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }));
    const failed = (res.Errors ?? []).filter((e) => e.Code !== "NoSuchKey");
    if (failed.length > 0) throw new Error(`could not delete ${failed.map((e) => `${e.Key}: ${e.Code}`).join(", ")}`);
  }

  async *list(prefix: string): AsyncGenerator<{ key: string; size: number; lastModified: Date | undefined }> {
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
      for (const o of page.Contents ?? []) if (o.Key) yield { key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /**
   * A URL a client PUTs the bytes to, without credentials, until `signedAt` + `ttlSeconds` (SigV4
   * counts from a whole second, so the caller picks it and can say exactly when it expires).
   * The size is signed, so S3 refuses other lengths.
   */
  presignPut(key: string, size: number, contentType: string, ttlSeconds: number, signedAt: Date): Promise<string> {
    return getSignedUrl(this.presigner, new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentLength: size, ContentType: contentType }), {
      expiresIn: ttlSeconds,
      signingDate: signedAt,
    });
  }

  /** A URL a client GETs the object from until it expires, answered with these headers. */
  presignGet(key: string, ttlSeconds: number, headers: { contentType: string; contentDisposition: string; cacheControl: string }): Promise<string> {
    return getSignedUrl(
      this.presigner,
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: key,
        ResponseContentType: headers.contentType,
        ResponseContentDisposition: headers.contentDisposition,
        ResponseCacheControl: headers.cacheControl,
      }),
      { expiresIn: ttlSeconds },
    );
  }
}
