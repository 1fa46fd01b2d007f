import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { Kysely } from "kysely";
import type { HistoryDb } from "./schema.ts";
import { ByteCache } from "./byte-cache.ts";

export interface Snapshot {
  seq: number;
  streamSeq: number;
  state: Uint8Array;
}

/** Snapshots: small ones in Postgres, large ones in the object store, keyed by document and version. */
export class SnapshotStore {
  /** Snapshot bytes never change once stored. */
  private readonly bytes = new ByteCache<Uint8Array>(128 * 1024 * 1024);

  constructor(
    private readonly db: Kysely<HistoryDb>,
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly inlineMaxBytes: number,
  ) {}

  /** The newest snapshot at or before `maxSeq` (any version when omitted). */
  async latest(docId: string, maxSeq?: number): Promise<Snapshot | null> {
    let q = this.db.selectFrom("snapshots").select(["seq", "stream_seq", "s3_key"]).where("doc_id", "=", docId);
    if (maxSeq !== undefined) q = q.where("seq", "<=", maxSeq);
    const row = await q.orderBy("seq", "desc").limit(1).executeTakeFirst();
    if (!row) return null;
    const key = `${docId}:${row.seq}`;
    let state = this.bytes.get(key);
    if (!state) {
      const loaded = row.s3_key
        ? await this.fetch(row.s3_key)
        : (await this.db.selectFrom("snapshots").select("state").where("doc_id", "=", docId).where("seq", "=", row.seq).executeTakeFirst())?.state;
      if (!loaded) return null;
      state = new Uint8Array(loaded);
      this.bytes.set(key, state, state.byteLength);
    }
    return { seq: row.seq, streamSeq: row.stream_seq, state };
  }

  async save(docId: string, seq: number, streamSeq: number, state: Uint8Array): Promise<"inline" | "s3"> {
    const where = state.byteLength > this.inlineMaxBytes ? "s3" : "inline";
    const key = `snapshots/${docId}/${seq}.yjs`;
    if (where === "s3") {
      await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: state, ContentType: "application/octet-stream" }));
    }
    await this.db
      .insertInto("snapshots")
      .values({
        doc_id: docId,
        seq,
        stream_seq: streamSeq,
        created_at: new Date(),
        size: state.byteLength,
        state: where === "inline" ? state : null,
        s3_key: where === "s3" ? key : null,
      })
      .onConflict((oc) => oc.columns(["doc_id", "seq"]).doNothing())
      .execute();
    return where;
  }

  /** This replica forgets an erased document's snapshot bytes. */
  forget(docId: string): void {
    this.bytes.deletePrefix(`${docId}:`);
  }

  private async fetch(key: string): Promise<Uint8Array> {
    const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    if (!res.Body) throw new Error(`snapshot ${key} is empty`);
    return res.Body.transformToByteArray();
  }
}
