import { randomBytes } from "node:crypto";
import net from "node:net";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it, vi, inject } from "vitest";
import pg from "pg";
import { Redis } from "ioredis";
import sharp from "sharp";
import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import {
  Streams,
  subjects,
  type ActivityItem,
  type AnyDomainEvent,
  type AuditEventLine,
  type AuditLine,
  type DocView,
  type ErrorBody,
  type FileView,
  type Page,
  type PresignedUpload,
} from "@palimpsest/contracts";
import { createS3 } from "@palimpsest/platform";
import type { TestApi } from "@palimpsest/devkit";
import { useSystem } from "./system.ts";
import { storedOnSubject } from "./stream-helpers.ts";
import { verifyTrail } from "../scripts/audit-trail.ts";

const MiB = 1024 * 1024;
const ctx = useSystem("files", {
  env: {
    FILES_MAX_STREAMED_BYTES: String(1 * MiB),
    FILES_MAX_BYTES: String(2 * MiB),
    FILES_QUOTA_BYTES: String(2.5 * MiB),
    FILES_DOWNLOAD_URL_TTL_SECONDS: "2",
    FILES_UPLOAD_URL_TTL_SECONDS: "5",
    FILES_THUMBNAIL_SIZE: "64",
    FILES_UPLOADS_PER_USER: "2",
    FILES_UPLOAD_BODY_GRACE_SECONDS: "10",
  },
});
const patience = { timeout: 20_000, interval: 200 };

let s3: S3Client;
let db: pg.Client;
const bucket = () => inject("storeEnv")["S3_BUCKET"] ?? "palimpsest";
beforeAll(async () => {
  const env = inject("storeEnv");
  s3 = createS3({ s3Endpoint: env["S3_ENDPOINT"]!, s3Region: "us-east-1", s3AccessKeyId: env["S3_ACCESS_KEY_ID"]!, s3SecretAccessKey: env["S3_SECRET_ACCESS_KEY"]! });
  db = new pg.Client({ connectionString: env["DATABASE_URL"] });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  s3?.destroy();
});

/** Keys in the bucket under a prefix, as the store itself lists them. */
async function keysUnder(prefix: string): Promise<string[]> {
  const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket(), Prefix: prefix }));
  return (res.Contents ?? []).map((o) => o.Key ?? "").sort();
}

/** A real PNG of the given size; noise does not compress, so the file's size follows its pixels. */
async function png(width: number, height: number, noise = false): Promise<Buffer> {
  const raw = noise ? randomBytes(width * height * 3) : Buffer.alloc(width * height * 3, 0);
  if (!noise) for (let i = 0; i < raw.length; i += 3) raw[i] = (i / 3) % 256;
  return sharp(raw, { raw: { width, height, channels: 3 } }).png({ compressionLevel: noise ? 0 : 6 }).toBuffer();
}

/**
 * A valid black PNG of one bit per pixel: a few kilobytes on the wire, `width` × `height` pixels
 * (bytes of memory and more) once decoded: the shape of a pixel bomb.
 */
function bitmapPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(zlib.crc32(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([1, 0, 0, 0, 0], 8); // bit depth 1, greyscale, deflate, no filter, no interlace
  const rows = zlib.deflateSync(Buffer.alloc((1 + Math.ceil(width / 8)) * height), { level: 9 });
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", rows), chunk("IEND", Buffer.alloc(0))]);
}

async function upload(api: TestApi, docId: string, bytes: Buffer, name: string, type = "image/png") {
  const form = new FormData();
  form.append("file", new Blob([new Uint8Array(bytes)], { type }), name);
  const res = await fetch(`${api.baseUrl}/api/docs/${docId}/files`, { method: "POST", headers: { authorization: `Bearer ${api.token}` }, body: form });
  return { status: res.status, body: (await res.json()) as FileView & ErrorBody };
}

/** An upload whose client sends the headers and a little of the body, then nothing: it says when the server closes the connection. */
/** Whether an HTTP/1.1 response read off a socket has all arrived: its declared length, or the last chunk. */
function responseComplete(raw: string): boolean {
  const split = raw.indexOf("\r\n\r\n");
  if (split < 0) return false;
  const head = raw.slice(0, split).toLowerCase();
  const body = raw.slice(split + 4);
  const length = /\r\ncontent-length: *(\d+)/.exec(head);
  if (length) return Buffer.byteLength(body, "latin1") >= Number(length[1]);
  return /\r\ntransfer-encoding: *chunked/.test(head) && body.endsWith("0\r\n\r\n");
}

function trickle(api: TestApi, docId: string): { closed: () => boolean; socket: net.Socket } {
  const url = new URL(api.baseUrl);
  const socket = net.connect({ host: url.hostname, port: Number(url.port) });
  let closed = false;
  socket.on("close", () => (closed = true));
  socket.on("error", () => undefined);
  socket.on("data", () => undefined);
  const head = '--b\r\ncontent-disposition: form-data; name="file"; filename="slow.png"\r\ncontent-type: image/png\r\n\r\n\x89PNG';
  socket.write(
    `POST /api/docs/${docId}/files HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${api.token}\r\n` +
      `content-type: multipart/form-data; boundary=b\r\ncontent-length: 500000\r\n\r\n${head}`,
  );
  return { closed: () => closed, socket };
}

async function presigned(api: TestApi, docId: string, bytes: Buffer, name: string, claimed = "image/png", declared = bytes.length) {
  const grant = await api.post<PresignedUpload & ErrorBody>(`/api/docs/${docId}/files`, { name, size: declared, contentType: claimed });
  if (grant.status !== 201) return { grant, put: undefined, done: undefined };
  const put = await fetch(grant.body.uploadUrl, { method: "PUT", headers: grant.body.headers, body: new Uint8Array(bytes) });
  const done = await api.post<FileView & ErrorBody>(grant.body.completeUrl);
  return { grant, put, done };
}

async function download(api: TestApi, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${api.baseUrl}${path}`, { headers: { ...(api.token ? { authorization: `Bearer ${api.token}` } : {}), ...headers }, redirect: "manual" });
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** A document its owner shares with an editor, a commenter and a viewer; plus a stranger. */
async function team() {
  const owner = await ctx.anon.newUser("Owner");
  const editor = await ctx.anon.newUser("Editor");
  const commenter = await ctx.anon.newUser("Commenter");
  const viewer = await ctx.anon.newUser("Viewer");
  const stranger = await ctx.anon.newUser("Stranger");
  const doc = await owner.api.createDoc("With attachments");
  for (const [who, role] of [[editor, "editor"], [commenter, "commenter"], [viewer, "viewer"]] as const) {
    expect((await owner.api.post(`/api/docs/${doc.id}/members`, { email: who.auth.user.email, role })).status).toBe(201);
  }
  return { owner, editor, commenter, viewer, stranger, doc };
}

async function fileEvents(docId: string): Promise<AnyDomainEvent[]> {
  const count = await storedOnSubject(ctx.jsm, Streams.docs, subjects.fileEvents(docId));
  const out: AnyDomainEvent[] = [];
  if (count === 0) return out;
  const consumer = await jetstream(ctx.nc).consumers.get(Streams.docs, { filter_subjects: subjects.fileEvents(docId), deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume();
  for await (const m of messages) {
    out.push(m.json<AnyDomainEvent>());
    if (out.length >= count) break;
  }
  messages.stop();
  return out;
}

describe("uploads and downloads", () => {
  it("an editor uploads through the service; every member downloads it, strangers and lesser roles are refused", async () => {
    const { owner, editor, commenter, viewer, stranger, doc } = await team();
    const image = await png(300, 200);
    const name = 'Plan "v2" — ünïcode\r\n.png';
    const up = await upload(editor.api, doc.id, image, name, "application/octet-stream");
    expect(up.status).toBe(201);
    expect(up.body).toMatchObject({ docId: doc.id, name: 'Plan "v2" — ünïcode.png', contentType: "image/png", size: image.length, via: "service", uploadedBy: editor.auth.user.id });
    const fileId = up.body.id;

    for (const who of [owner, editor, commenter, viewer]) {
      const { res, bytes } = await download(who.api, `/api/files/${fileId}`);
      expect(res.status).toBe(200);
      expect(bytes.equals(image)).toBe(true);
      expect(res.headers.get("content-type")).toBe("image/png");
      expect(res.headers.get("content-length")).toBe(String(image.length));
      expect(res.headers.get("cache-control")).toBe("private, no-cache");
      expect(res.headers.get("etag")).toBe(`"${fileId}"`);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    }
    const { res } = await download(viewer.api, `/api/files/${fileId}`);
    // The exact name in RFC 5987 form; an ASCII stand-in that cannot break out of its quotes.
    expect(res.headers.get("content-disposition")).toBe(
      `inline; filename="Plan _v2_ _ _n_code.png"; filename*=UTF-8''${encodeURIComponent('Plan "v2" — ünïcode.png').replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`,
    );
    expect((await download(viewer.api, `/api/files/${fileId}?download=true`)).res.headers.get("content-disposition")).toMatch(/^attachment; /);
    expect((await download(viewer.api, `/api/files/${fileId}`, { "if-none-match": `"${fileId}"` })).res.status).toBe(304);

    // Strangers learn nothing; no token is no entry.
    const refused = await download(stranger.api, `/api/files/${fileId}`);
    expect(refused.res.status).toBe(404);
    expect(refused.bytes.toString()).toContain("NOT_FOUND");
    expect((await download(stranger.api, `/api/files/${fileId}?redirect=true`)).res.status).toBe(404);
    expect((await download(ctx.anon, `/api/files/${fileId}`)).res.status).toBe(401);
    expect((await stranger.api.get(`/api/docs/${doc.id}/files`)).status).toBe(404);

    // Viewers and commenters read, but do not attach or delete.
    expect((await upload(viewer.api, doc.id, image, "v.png")).body.error.code).toBe("FORBIDDEN");
    expect((await upload(commenter.api, doc.id, image, "c.png")).status).toBe(403);
    expect((await upload(stranger.api, doc.id, image, "s.png")).status).toBe(404);
    expect((await viewer.api.post(`/api/docs/${doc.id}/files`, { name: "v.png", size: 10, contentType: "image/png" })).status).toBe(403);
    expect((await viewer.api.call("DELETE", `/api/files/${fileId}`)).status).toBe(403);
    expect((await stranger.api.call("DELETE", `/api/files/${fileId}`)).status).toBe(404);

    const list = await viewer.api.get<{ items: FileView[] }>(`/api/docs/${doc.id}/files`);
    expect(list.status).toBe(200);
    expect(list.body.items.map((f) => [f.id, f.name, f.size, f.uploadedBy, f.url])).toEqual([[fileId, up.body.name, image.length, editor.auth.user.id, `/api/files/${fileId}`]]);
  });

  it("the files service checks the token itself: reaching it directly grants nothing", async () => {
    const { editor, doc } = await team();
    const up = await upload(editor.api, doc.id, await png(20, 20), "a.png");
    const direct = `http://127.0.0.1:${ctx.system.byName("files")[0]!.port}`;
    const anonymous = await fetch(`${direct}/api/files/${up.body.id}`, { headers: { "x-user-id": editor.auth.user.id } });
    expect(anonymous.status).toBe(401);
    const forged = await fetch(`${direct}/api/files/${up.body.id}`, { headers: { authorization: `Bearer ${editor.auth.accessToken.slice(0, -4)}AAAA` } });
    expect(forged.status).toBe(401);
    expect((await fetch(`${direct}/api/files/${up.body.id}`, { headers: { authorization: `Bearer ${editor.auth.accessToken}` } })).status).toBe(200);
  });

  it("a presigned upload goes to the store directly and counts once confirmed; the URLs expire", async () => {
    const { editor, viewer, stranger, doc } = await team();
    const image = await png(640, 480);
    const { grant, put, done } = await presigned(editor.api, doc.id, image, "photo.png");
    expect(grant.status).toBe(201);
    expect(new URL(grant.body.uploadUrl).origin).toBe(new URL(inject("storeEnv")["S3_ENDPOINT"]!).origin);
    expect(Date.parse(grant.body.expiresAt)).toBeGreaterThan(Date.now());
    expect(put?.status).toBe(200);
    // A browser PUTs from the app's origin: the store answers the CORS preflight.
    const preflight = await fetch(grant.body.uploadUrl, {
      method: "OPTIONS",
      headers: { origin: "http://localhost:8080", "access-control-request-method": "PUT", "access-control-request-headers": "content-type" },
    });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get("access-control-allow-origin")).toMatch(/^(\*|http:\/\/localhost:8080)$/);
    expect(done?.status).toBe(201);
    expect(done?.body).toMatchObject({ id: grant.body.fileId, name: "photo.png", contentType: "image/png", size: image.length, via: "presigned" });
    // Confirming again answers as the first time, and stores nothing more.
    expect((await editor.api.post<FileView>(grant.body.completeUrl)).status).toBe(200);
    expect(await keysUnder(`uploads/${grant.body.fileId}`)).toEqual([]);
    expect(await keysUnder(`files/${doc.id}/${grant.body.fileId}`)).toContain(`files/${doc.id}/${grant.body.fileId}`);
    expect((await fileEvents(doc.id)).filter((e) => e.type === "file.uploaded.v1")).toHaveLength(1);

    // Someone else cannot confirm it, nor anything that was never asked for.
    expect((await viewer.api.post(grant.body.completeUrl)).status).toBe(404);
    expect((await editor.api.post(`/api/files/${grant.body.fileId}x/complete`)).status).toBe(404);

    // A download by redirect: a presigned GET with the right headers, which stops working after its TTL.
    const redirect = await download(viewer.api, `/api/files/${grant.body.fileId}?redirect=true`);
    expect(redirect.res.status).toBe(302);
    expect(redirect.res.headers.get("cache-control")).toBe("no-store");
    const location = redirect.res.headers.get("location")!;
    expect(new URL(location).searchParams.get("X-Amz-Expires")).toBe("2");
    const direct = await fetch(location);
    expect(direct.status).toBe(200);
    expect(Buffer.from(await direct.arrayBuffer()).equals(image)).toBe(true);
    expect(direct.headers.get("content-type")).toBe("image/png");
    expect(direct.headers.get("content-disposition")).toBe(`inline; filename="photo.png"; filename*=UTF-8''photo.png`);
    expect((await download(stranger.api, `/api/files/${grant.body.fileId}?redirect=true`)).res.status).toBe(404);
    await vi.waitFor(async () => expect((await fetch(location)).status).toBe(403), patience);

    // An upload URL, likewise: it takes PUTs until it expires, then the store refuses them.
    const second = await editor.api.post<PresignedUpload>(`/api/docs/${doc.id}/files`, { name: "late.png", size: image.length, contentType: "image/png" });
    const puts: number[] = [];
    await vi.waitFor(async () => {
      const r = await fetch(second.body.uploadUrl, { method: "PUT", headers: second.body.headers, body: new Uint8Array(image) });
      puts.push(r.status);
      expect(r.status).toBe(403);
    }, patience);
    expect(puts[0]).toBe(200);
    expect(Date.now()).toBeGreaterThan(Date.parse(second.body.expiresAt));
    // What arrived in time is still confirmed as usual.
    expect((await editor.api.post(second.body.completeUrl)).status).toBe(201);
  });
});

describe("limits", () => {
  it("oversized and wrong-type uploads are refused either way and leave nothing in the store or the database", async () => {
    const { editor, doc } = await team();
    const big = await png(620, 620, true);
    expect(big.length).toBeGreaterThan(1 * MiB);
    expect(big.length).toBeLessThan(2 * MiB);
    const tooBig = await upload(editor.api, doc.id, big, "big.png");
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error.code).toBe("PAYLOAD_TOO_LARGE");
    // Just over the limit: read until the limit, then refused.
    const justOver = await png(595, 595, true);
    expect(justOver.length).toBeGreaterThan(1 * MiB);
    expect((await upload(editor.api, doc.id, justOver, "just-over.png")).body.error.code).toBe("PAYLOAD_TOO_LARGE");

    // Names and claimed types are not believed: the bytes are.
    const html = Buffer.from("<html><script>alert(1)</script></html>".repeat(20));
    const disguised = await upload(editor.api, doc.id, html, "cat.png", "image/png");
    expect(disguised.status).toBe(415);
    expect(disguised.body.error.code).toBe("UNSUPPORTED_MEDIA_TYPE");
    const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), randomBytes(2_000)]);
    expect((await upload(editor.api, doc.id, zip, "archive.pdf", "application/pdf")).status).toBe(415);
    expect((await upload(editor.api, doc.id, Buffer.alloc(0), "empty.png")).status).toBe(400);
    // One file per request; a body that is not a multipart form is refused as such.
    const two = new FormData();
    for (const n of ["x.png", "y.png"]) two.append("file", new Blob([new Uint8Array(await png(8, 8))], { type: "image/png" }), n);
    const twoRes = await fetch(`${editor.api.baseUrl}/api/docs/${doc.id}/files`, { method: "POST", headers: { authorization: `Bearer ${editor.api.token}` }, body: two });
    expect(twoRes.status).toBe(400);
    const garbled = await fetch(`${editor.api.baseUrl}/api/docs/${doc.id}/files`, {
      method: "POST",
      headers: { authorization: `Bearer ${editor.api.token}`, "content-type": "multipart/form-data; boundary=xyz" },
      body: "--xyz\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n\x89PNG",
    });
    expect(garbled.status).toBe(400);

    // Presigned: refused when asked for, when what is claimed is already wrong ...
    const huge = await editor.api.post<ErrorBody>(`/api/docs/${doc.id}/files`, { name: "huge.png", size: 3 * MiB, contentType: "image/png" });
    expect(huge.status).toBe(413);
    expect((await editor.api.post(`/api/docs/${doc.id}/files`, { name: "a.exe", size: 10, contentType: "application/x-msdownload" })).status).toBe(415);
    // ... and when confirmed, by what actually arrived: then the object is deleted.
    const lying = await presigned(editor.api, doc.id, html, "page.png", "image/png");
    expect(lying.put?.status).toBe(200);
    expect(lying.done?.status).toBe(415);
    const wrongSize = await presigned(editor.api, doc.id, await png(50, 50), "short.png", "image/png", 100);
    expect(wrongSize.done?.status).toBe(400);
    // A file the size limit allows, but over the limit of the streamed route, goes by presigned URL.
    const bigPresigned = await presigned(editor.api, doc.id, big, "big.png");
    expect(bigPresigned.done?.status).toBe(201);

    const refusedIds = [lying.grant.body.fileId, wrongSize.grant.body.fileId];
    for (const id of refusedIds) {
      expect(await keysUnder(`uploads/${id}`)).toEqual([]);
      expect((await editor.api.post(`/api/files/${id}/complete`)).status).toBe(404);
    }
    const originals = (await keysUnder(`files/${doc.id}/`)).filter((k) => !k.endsWith(".thumb.webp"));
    expect(originals).toEqual([`files/${doc.id}/${bigPresigned.grant.body.fileId}`]);
    const rows = await db.query("select file_id from files where doc_id = $1", [doc.id]);
    expect(rows.rows.map((r: { file_id: string }) => r.file_id)).toEqual([bigPresigned.grant.body.fileId]);
    const pending = await db.query("select file_id from pending_uploads where user_id = $1", [editor.auth.user.id]);
    expect(pending.rows).toEqual([]);
    expect((await editor.api.get<{ items: FileView[] }>(`/api/docs/${doc.id}/files`)).body.items.map((f) => f.id)).toEqual([bigPresigned.grant.body.fileId]);
    expect((await fileEvents(doc.id)).map((e) => e.type)).not.toContain("file.deleted.v1");
  });

  /**
   * An upload sent as a raw HTTP/1.1 request, part of its body held back until asked: what a
   * client that is still sending sees. Answers what arrived before the rest was sent, and when
   * the connection closed relative to finishing sending.
   */
  async function uploadHoldingBack(api: TestApi, docId: string, fileBytes: number, heldBackBytes: number) {
    const url = new URL(api.baseUrl);
    const socket = net.connect({ host: url.hostname, port: Number(url.port) });
    let answer = "";
    let closedAt: number | undefined;
    socket.on("data", (d: Buffer) => (answer += d.toString("latin1")));
    socket.on("close", () => (closedAt = Date.now()));
    socket.on("error", () => undefined);
    const head = Buffer.from('--b\r\ncontent-disposition: form-data; name="file"; filename="big.png"\r\ncontent-type: image/png\r\n\r\n\x89PNG\r\n\x1a\n', "latin1");
    const sent = Buffer.concat([head, Buffer.alloc(fileBytes - heldBackBytes)]);
    const heldBack = Buffer.concat([Buffer.alloc(heldBackBytes), Buffer.from("\r\n--b--\r\n", "latin1")]);
    socket.write(
      `POST /api/docs/${docId}/files HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${api.token}\r\n` +
        `content-type: multipart/form-data; boundary=b\r\ncontent-length: ${sent.length + heldBack.length}\r\n\r\n`,
    );
    await new Promise<void>((resolve) => socket.write(sent, () => resolve()));
    return {
      answer: () => answer,
      closedAt: () => closedAt,
      sendRest: () => new Promise<number>((resolve, reject) => socket.write(heldBack, (err) => (err ? reject(err) : resolve(Date.now())))),
      destroy: () => socket.destroy(),
    };
  }

  it("an upload whose declared length is too large is answered while its body is still arriving; the connection takes the rest, then the answer is complete", async () => {
    const { editor, doc } = await team();
    const up = await uploadHoldingBack(editor.api, doc.id, Math.round(1.5 * MiB), 256 * 1024);
    try {
      await vi.waitFor(() => expect(up.answer()).toMatch(/^HTTP\/1\.1 413 [^]*PAYLOAD_TOO_LARGE/), { timeout: 10_000, interval: 100 });
      expect(up.closedAt()).toBeUndefined();
      const finishedSending = await up.sendRest();
      // Complete at once: a client like fetch, which sends its whole body first, reads it then.
      await vi.waitFor(() => expect(responseComplete(up.answer())).toBe(true), { timeout: 10_000, interval: 100 });
      expect(up.closedAt() === undefined || up.closedAt()! >= finishedSending).toBe(true);
    } finally {
      up.destroy();
    }
  });

  it("every oversized upload through the gateway is answered with its 413, none reset or left hanging", async () => {
    const { editor, doc } = await team();
    // One refused on its declared length before its body has all arrived, one once it has been read.
    const files = [await png(620, 620, true), await png(595, 595, true)];
    const outcomes = new Map<string, number>();
    for (let round = 0; round < 40; round++) {
      for (const bytes of files) {
        const form = new FormData();
        form.append("file", new Blob([new Uint8Array(bytes)], { type: "image/png" }), "big.png");
        let outcome: string;
        try {
          const res = await fetch(`${editor.api.baseUrl}/api/docs/${doc.id}/files`, { method: "POST", headers: { authorization: `Bearer ${editor.api.token}` }, body: form, signal: AbortSignal.timeout(15_000) });
          outcome = `${res.status} ${((await res.json()) as ErrorBody).error.code}`;
        } catch (err) {
          outcome = `failed: ${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name}`;
        }
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
    }
    expect(Object.fromEntries(outcomes)).toEqual({ "413 PAYLOAD_TOO_LARGE": 80 });
  }, 120_000);

  it("an upload found too large while it is read is answered, complete, once its body has arrived", async () => {
    const { editor, doc } = await team();
    // Within the declared length the files service reads, past the 1 MiB the file may have.
    const up = await uploadHoldingBack(editor.api, doc.id, MiB + 40 * 1024, 24 * 1024);
    try {
      await up.sendRest();
      await vi.waitFor(() => expect(responseComplete(up.answer())).toBe(true), { timeout: 10_000, interval: 100 });
      expect(up.answer()).toMatch(/^HTTP\/1\.1 413 [^]*PAYLOAD_TOO_LARGE/);
    } finally {
      up.destroy();
    }
  });

  it("a presigned upload replaced while it is being confirmed is never stored as what was checked", async () => {
    const { editor, viewer, doc } = await team();
    const image = await png(40, 40);
    const html = Buffer.alloc(image.length, " ");
    html.write("<html><script>alert(1)</script>");
    const outcomes: number[] = [];
    for (let round = 0; round < 8; round++) {
      const grant = await editor.api.post<PresignedUpload>(`/api/docs/${doc.id}/files`, { name: `swap-${round}.png`, size: image.length, contentType: "image/png" });
      const put = (bytes: Buffer) => fetch(grant.body.uploadUrl, { method: "PUT", headers: grant.body.headers, body: new Uint8Array(bytes) });
      expect((await put(image)).status).toBe(200);
      // The URL takes PUTs until it expires: the object flips between the image and the page while the upload is confirmed.
      let swapping = true;
      const swapper = (async () => {
        for (let i = 0; swapping; i++) await put(i % 2 === 0 ? html : image);
      })();
      const done = await editor.api.post<FileView & ErrorBody>(grant.body.completeUrl);
      swapping = false;
      await swapper;
      outcomes.push(done.status);
      if (done.status !== 201) {
        // Refused: the page was seen, or a PUT was half-way through replacing the object.
        expect(["UNSUPPORTED_MEDIA_TYPE", "VALIDATION_FAILED"]).toContain(done.body.error.code);
        continue;
      }
      // Whatever was recorded is exactly what passed the checks: the image.
      expect(done.body.contentType).toBe("image/png");
      const stored = await download(viewer.api, `/api/files/${done.body.id}`);
      expect(stored.bytes.subarray(0, 8).toString("latin1")).toBe(image.subarray(0, 8).toString("latin1"));
      expect(stored.bytes.equals(image)).toBe(true);
    }
    expect(outcomes.every((s) => s === 201 || s === 415 || s === 400)).toBe(true);
  });

  it("each user's live files count against their quota, whichever document they are in", async () => {
    const { owner, editor, doc } = await team();
    const other = await editor.api.createDoc("Another");
    const files = await Promise.all([png(550, 550, true), png(550, 550, true), png(550, 550, true)]);
    expect(files[0]!.length).toBeGreaterThan(0.85 * MiB);
    const first = await upload(editor.api, doc.id, files[0]!, "1.png");
    expect(first.status).toBe(201);
    expect((await upload(editor.api, other.id, files[1]!, "2.png")).status).toBe(201);
    const over = await upload(editor.api, doc.id, files[2]!, "3.png");
    expect(over.status).toBe(413);
    expect(over.body.error.code).toBe("QUOTA_EXCEEDED");
    expect((await editor.api.post<ErrorBody>(`/api/docs/${doc.id}/files`, { name: "3.png", size: files[2]!.length, contentType: "image/png" })).body.error.code).toBe("QUOTA_EXCEEDED");
    // Another user's quota is their own.
    expect((await upload(owner.api, doc.id, files[2]!, "owner.png")).status).toBe(201);
    // Deleting frees the space.
    expect((await editor.api.call("DELETE", `/api/files/${first.body.id}`)).status).toBe(204);
    expect((await upload(editor.api, doc.id, files[2]!, "3.png")).status).toBe(201);
    await vi.waitFor(async () => expect(await keysUnder(`files/${doc.id}/${first.body.id}`)).toEqual([]), patience);
  });
});

describe("uploads that hold connections", () => {
  it("a user has a few uploads under way at most; a trickling body is cut off after the grace, which frees its place", async () => {
    const { owner, editor, doc } = await team();
    const slow = [trickle(editor.api, doc.id), trickle(editor.api, doc.id)];
    // Both slow uploads have taken their places (the limit here is 2), as every gateway replica
    // sees them; until the grace runs out, a third upload of the same user waits its turn.
    const redis = new Redis(inject("storeEnv")["REDIS_URL"]!);
    try {
      await vi.waitFor(async () => expect(await redis.zcard(`ratelimit:uploads:${editor.auth.user.id}`)).toBe(2), patience);
    } finally {
      redis.disconnect();
    }
    const third = await upload(editor.api, doc.id, await png(8, 8), "third.png");
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe("RATE_LIMITED");
    expect(slow.map((t) => t.closed())).toEqual([false, false]);
    // Someone else's uploads are theirs.
    expect((await upload(owner.api, doc.id, await png(8, 8), "owner.png")).status).toBe(201);
    // The trickles are cut after the 10 s grace (a few bytes never reach 32 KiB/s), not after the proxy's 5 minutes.
    await vi.waitFor(() => expect(slow.map((t) => t.closed())).toEqual([true, true]), { timeout: 30_000, interval: 200 });
    await vi.waitFor(async () => expect((await upload(editor.api, doc.id, await png(8, 8), "after.png")).status).toBe(201), patience);
    for (const t of slow) t.socket.destroy();
  });
});

describe("thumbnails", () => {
  it("an uploaded image gets a smaller WebP thumbnail beside it, made asynchronously", async () => {
    const { editor, viewer, doc } = await team();
    const image = await png(800, 600);
    const up = await upload(editor.api, doc.id, image, "wide.png");
    expect(up.status).toBe(201);
    let ready: FileView | undefined;
    await vi.waitFor(async () => {
      const list = await viewer.api.get<{ items: FileView[] }>(`/api/docs/${doc.id}/files`);
      ready = list.body.items.find((f) => f.id === up.body.id);
      expect(ready?.thumbnail).toBe("ready");
    }, patience);
    expect(ready?.thumbnailUrl).toBe(`/api/files/${up.body.id}/thumbnail`);
    const { res, bytes } = await download(viewer.api, ready!.thumbnailUrl!);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/webp");
    const meta = await sharp(bytes).metadata();
    expect(meta).toMatchObject({ format: "webp", width: 64, height: 48 });
    expect(bytes.length).toBeLessThan(image.length);
    expect(await keysUnder(`files/${doc.id}/${up.body.id}`)).toEqual([`files/${doc.id}/${up.body.id}`, `files/${doc.id}/${up.body.id}.thumb.webp`]);
    const thumbEvent = (await fileEvents(doc.id)).find((e) => e.type === "file.thumbnail-ready.v1");
    expect(thumbEvent?.data).toMatchObject({ fileId: up.body.id, width: 64, height: 48, contentType: "image/webp", size: bytes.length });

    // A PDF gets none.
    const pdf = Buffer.from("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n");
    const doc2 = await upload(editor.api, doc.id, pdf, "notes.pdf", "application/pdf");
    expect(doc2.body).toMatchObject({ contentType: "application/pdf", thumbnail: "none", thumbnailUrl: null });
    expect((await download(viewer.api, `/api/files/${doc2.body.id}`)).res.headers.get("content-disposition")).toMatch(/^attachment; /);
    expect((await download(viewer.api, `/api/files/${doc2.body.id}/thumbnail`)).res.status).toBe(404);
  });

  it("an image whose type passes but whose body cannot be decoded is marked failed, once, instead of pending forever", async () => {
    const { editor, viewer, doc } = await team();
    // A real PNG whose compressed pixels are overwritten: the signature and header still say PNG.
    const corrupt = Buffer.from(await png(64, 48));
    const idat = corrupt.indexOf("IDAT");
    expect(idat).toBeGreaterThan(0);
    randomBytes(corrupt.readUInt32BE(idat - 4)).copy(corrupt, idat + 4);
    await expect(sharp(corrupt, { failOn: "error" }).toBuffer()).rejects.toThrow();
    const bad = await upload(editor.api, doc.id, corrupt, "broken.png");
    expect(bad.status).toBe(201);
    expect(bad.body).toMatchObject({ contentType: "image/png", thumbnail: "pending" });
    // A good image uploaded after it still gets its thumbnail: the broken one does not hold up the worker.
    const good = await upload(editor.api, doc.id, await png(40, 30), "fine.png");

    await vi.waitFor(async () => {
      const items = (await viewer.api.get<{ items: FileView[] }>(`/api/docs/${doc.id}/files`)).body.items;
      expect(Object.fromEntries(items.map((f) => [f.id, [f.thumbnail, f.thumbnailUrl]]))).toEqual({
        [bad.body.id]: ["failed", null],
        [good.body.id]: ["ready", `/api/files/${good.body.id}/thumbnail`],
      });
    }, patience);
    expect((await download(viewer.api, `/api/files/${bad.body.id}/thumbnail`)).res.status).toBe(404);
    // The original is still there to download, as uploaded.
    const original = await download(viewer.api, `/api/files/${bad.body.id}`);
    expect(original.res.status).toBe(200);
    expect(original.bytes.equals(corrupt)).toBe(true);
    expect(await keysUnder(`files/${doc.id}/${bad.body.id}`)).toEqual([`files/${doc.id}/${bad.body.id}`]);

    const events = await fileEvents(doc.id);
    const failed = events.filter((e) => e.type === "file.thumbnail-failed.v1");
    expect(failed).toHaveLength(1);
    expect(failed[0]?.data).toMatchObject({ docId: doc.id, fileId: bad.body.id });
    expect((failed[0]?.data as { reason: string }).reason).not.toBe("");
    expect(events.filter((e) => e.type === "file.thumbnail-ready.v1").map((e) => e.data.fileId)).toEqual([good.body.id]);
    const rows = await db.query("select thumb_failed_at from files where file_id = $1", [bad.body.id]);
    expect(rows.rows[0]?.thumb_failed_at).toBeInstanceOf(Date);
  });
});

describe("thumbnails of huge images", () => {
  it("an image whose header claims more pixels than the limit gets no thumbnail and is not decoded", async () => {
    const { editor, viewer, doc } = await team();
    // 144 megapixels in about 20 KB, under sharp's own limit (about 268 MP) but far over the shipped 40 MP.
    const bomb = bitmapPng(12_000, 12_000);
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect(await sharp(bomb).metadata()).toMatchObject({ format: "png", width: 12_000, height: 12_000 });
    const up = await upload(editor.api, doc.id, bomb, "bomb.png");
    expect(up.status).toBe(201);
    await vi.waitFor(async () => {
      const items = (await viewer.api.get<{ items: FileView[] }>(`/api/docs/${doc.id}/files`)).body.items;
      expect(items.find((f) => f.id === up.body.id)?.thumbnail).toBe("failed");
    }, patience);
    const failed = (await fileEvents(doc.id)).find((e) => e.type === "file.thumbnail-failed.v1");
    expect((failed?.data as { reason: string }).reason).toBe("the image is 12000×12000 pixels; thumbnails are made of images up to 40000000 pixels");
    expect(await keysUnder(`files/${doc.id}/${up.body.id}`)).toEqual([`files/${doc.id}/${up.body.id}`]);
    // The original is kept, as uploaded: only its thumbnail is refused.
    expect((await download(viewer.api, `/api/files/${up.body.id}`)).bytes.equals(bomb)).toBe(true);
  });
});

describe("documents in the trash and purged", () => {
  it("a trashed document's files are hidden; purging it deletes them from the store", async () => {
    const { owner, editor, viewer, doc } = await team();
    const a = await upload(editor.api, doc.id, await png(200, 100), "a.png");
    const b = await presigned(owner.api, doc.id, await png(100, 100), "b.png");
    expect(b.done?.status).toBe(201);
    await vi.waitFor(async () => expect(await keysUnder(`files/${doc.id}/`)).toHaveLength(4), patience);

    expect((await owner.api.call("DELETE", `/api/docs/${doc.id}`)).status).toBe(204);
    for (const path of [`/api/files/${a.body.id}`, `/api/files/${a.body.id}/thumbnail`, `/api/files/${a.body.id}?redirect=true`]) {
      expect((await download(viewer.api, path)).res.status).toBe(404);
      expect((await download(owner.api, path)).res.status).toBe(404);
    }
    expect((await viewer.api.get(`/api/docs/${doc.id}/files`)).status).toBe(404);
    expect((await upload(editor.api, doc.id, await png(10, 10), "late.png")).status).toBe(404);
    // In the trash the objects stay: restoring brings the files back.
    expect(await keysUnder(`files/${doc.id}/`)).toHaveLength(4);
    expect((await owner.api.post(`/api/docs/${doc.id}/untrash`)).status).toBe(200);
    expect((await download(viewer.api, `/api/files/${a.body.id}`)).res.status).toBe(200);

    // Only the owner purges; then the document and its objects are gone for good.
    expect((await editor.api.call("DELETE", `/api/docs/${doc.id}?purge=true`)).status).toBe(403);
    expect((await owner.api.call("DELETE", `/api/docs/${doc.id}?purge=true`)).status).toBe(204);
    await vi.waitFor(async () => expect(await keysUnder(`files/${doc.id}/`)).toEqual([]), patience);
    const events = await fileEvents(doc.id);
    expect(events.filter((e) => e.type === "file.deleted.v1").map((e) => [e.data.fileId, (e.data as { reason: string }).reason, e.actorId]).sort()).toEqual(
      [[a.body.id, "purged", owner.auth.user.id], [b.grant.body.fileId, "purged", owner.auth.user.id]].sort(),
    );
    expect((await download(owner.api, `/api/files/${a.body.id}`)).res.status).toBe(404);
    expect((await owner.api.get(`/api/docs/${doc.id}`)).status).toBe(404);
    expect((await owner.api.post(`/api/docs/${doc.id}/untrash`)).status).toBe(404);
    expect((await owner.api.get<Page<DocView>>("/api/docs?trashed=true")).body.items.map((d) => d.id)).not.toContain(doc.id);
    const rows = await db.query("select deleted_reason from files where doc_id = $1", [doc.id]);
    expect(rows.rows.map((r: { deleted_reason: string }) => r.deleted_reason)).toEqual(["purged", "purged"]);
  });
});

describe("file events", () => {
  it("uploads and deletions are events in the stream, in the activity and in the verifiable audit trail", async () => {
    const { owner, editor, viewer, doc } = await team();
    const a = await upload(editor.api, doc.id, await png(40, 30), "first.png");
    const b = await upload(editor.api, doc.id, await png(30, 40), "second.png");
    await vi.waitFor(async () => expect((await fileEvents(doc.id)).filter((e) => e.type === "file.thumbnail-ready.v1")).toHaveLength(2), patience);
    expect((await editor.api.call("DELETE", `/api/files/${b.body.id}`)).status).toBe(204);
    expect((await download(viewer.api, `/api/files/${b.body.id}`)).res.status).toBe(404);
    await vi.waitFor(async () => expect(await keysUnder(`files/${doc.id}/${b.body.id}`)).toEqual([]), patience);

    const events = await fileEvents(doc.id);
    expect(events.map((e) => e.type).filter((t) => t !== "file.thumbnail-ready.v1")).toEqual(["file.uploaded.v1", "file.uploaded.v1", "file.deleted.v1"]);
    expect(events.find((e) => e.type === "file.deleted.v1")).toMatchObject({ actorId: editor.auth.user.id, data: { docId: doc.id, fileId: b.body.id, reason: "deleted" } });

    await vi.waitFor(async () => {
      const activity = await owner.api.get<{ items: ActivityItem[] }>(`/api/docs/${doc.id}/activity`);
      const files = activity.body.items.filter((i) => i.type.startsWith("file."));
      expect(files.filter((i) => i.type !== "file.thumbnail-ready").map((i) => [i.type, i.userId, i.data?.["fileId"]])).toEqual([
        ["file.deleted", editor.auth.user.id, b.body.id],
        ["file.uploaded", editor.auth.user.id, b.body.id],
        ["file.uploaded", editor.auth.user.id, a.body.id],
      ]);
    }, patience);

    const res = await fetch(`${owner.api.baseUrl}/api/docs/${doc.id}/audit`, { headers: { authorization: `Bearer ${owner.auth.accessToken}` } });
    const text = await res.text();
    const lines = text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as AuditLine);
    const eventTypes = lines.filter((l): l is AuditEventLine => l.type === "event").map((l) => l.event["type"]);
    expect(eventTypes.filter((t) => String(t).startsWith("file."))).toEqual(events.map((e) => e.type));
    expect(eventTypes[0]).toBe("doc.created.v1");
    const verified = await verifyTrail((async function* () {
      yield* text.split("\n").filter((l) => l !== "");
    })());
    expect(verified.ok).toBe(true);
    expect(verified.ok && verified.events).toBe(eventTypes.length);
  });
});
