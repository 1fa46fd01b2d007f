/**
 * File transfer throughput, against the real stores and services.
 *
 * 1. Uploads streamed through the service: multipart POST through the gateway to the files
 *    service, which spools, sniffs and stores the file in S3 and records the event.
 * 2. Uploads by presigned URL: ask for the URL, PUT to the store directly, confirm (ranged read
 *    to sniff, server-side copy into place, event).
 * 3. Downloads streamed through the gateway and the files service (permission check, S3 GET).
 * 4. Downloads by presigned URL: GET ?redirect=true, then fetch the store's URL.
 * 5. For reference, the store alone: PUT and GET with the SDK's presigned URLs, no service in between.
 * Each is run one at a time and with several in flight; MB/s counts file bytes (1 MB = 10^6 bytes).
 * Files are PDFs (a real header, random content): they pass the type check and need no thumbnail.
 * Last, how long an uploaded 12-megapixel JPEG waits for its thumbnail.
 *
 * Run: npm run bench:files   (BENCH_FILE_MB=8 BENCH_FILES=24 BENCH_IN_FLIGHT=4)
 */
import { randomBytes } from "node:crypto";
import sharp from "sharp";
import { PutObjectCommand, GetObjectCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { createS3 } from "@palimpsest/platform";
import { TestApi } from "@palimpsest/devkit";
import type { FileView, PresignedUpload } from "@palimpsest/contracts";
import { machine, startBenchSystem, summary } from "./bench-system.ts";

const FILE_MB = Number(process.env["BENCH_FILE_MB"] ?? 8);
const FILES = Number(process.env["BENCH_FILES"] ?? 24);
const IN_FLIGHT = Number(process.env["BENCH_IN_FLIGHT"] ?? 4);
const FILE_BYTES = Math.round(FILE_MB * 1024 * 1024);

const bench = await startBenchSystem({
  env: {
    FILES_MAX_BYTES: String(Math.max(FILE_BYTES * 2, 100 * 1024 * 1024)),
    FILES_MAX_STREAMED_BYTES: String(Math.max(FILE_BYTES * 2, 25 * 1024 * 1024)),
    FILES_QUOTA_BYTES: String(1024 * 1024 * 1024 * 1024),
  },
});
try {
  const base = bench.system.gatewayUrl();
  const { api, auth } = await new TestApi(base).newUser("Bench");
  const doc = await api.createDoc("bench files");
  const authz = { authorization: `Bearer ${auth.accessToken}` };
  const pdf = () => Buffer.concat([Buffer.from("%PDF-1.7\n"), randomBytes(FILE_BYTES - 9)]);
  const payloads = Array.from({ length: Math.min(FILES, 8) }, pdf);
  const payload = (i: number) => payloads[i % payloads.length]!;

  const check = (res: Response, want: number, what: string) => {
    if (res.status !== want) throw new Error(`${what}: expected ${want}, got ${res.status}`);
  };

  async function viaService(i: number): Promise<string> {
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(payload(i))], { type: "application/pdf" }), `bench-${i}.pdf`);
    const res = await fetch(`${base}/api/docs/${doc.id}/files`, { method: "POST", headers: authz, body: form });
    const body = (await res.json()) as FileView;
    check(res, 201, "upload through the service");
    return body.id;
  }

  async function viaPresigned(i: number): Promise<string> {
    const bytes = payload(i);
    const grant = await fetch(`${base}/api/docs/${doc.id}/files`, {
      method: "POST",
      headers: { ...authz, "content-type": "application/json" },
      body: JSON.stringify({ name: `bench-${i}.pdf`, size: bytes.length, contentType: "application/pdf" }),
    });
    const g = (await grant.json()) as PresignedUpload;
    check(grant, 201, "presign");
    const put = await fetch(g.uploadUrl, { method: "PUT", headers: g.headers, body: new Uint8Array(bytes) });
    await put.arrayBuffer();
    check(put, 200, "presigned PUT");
    const done = await fetch(`${base}${g.completeUrl}`, { method: "POST", headers: authz });
    await done.arrayBuffer();
    check(done, 201, "complete");
    return g.fileId;
  }

  async function downloadStreamed(id: string): Promise<void> {
    const res = await fetch(`${base}/api/files/${id}`, { headers: authz });
    const n = (await res.arrayBuffer()).byteLength;
    check(res, 200, "download");
    if (n !== FILE_BYTES) throw new Error(`downloaded ${n} bytes`);
  }

  async function downloadPresigned(id: string): Promise<void> {
    const res = await fetch(`${base}/api/files/${id}?redirect=true`, { headers: authz, redirect: "manual" });
    await res.arrayBuffer();
    check(res, 302, "redirect");
    const object = await fetch(res.headers.get("location")!);
    const n = (await object.arrayBuffer()).byteLength;
    check(object, 200, "presigned GET");
    if (n !== FILE_BYTES) throw new Error(`downloaded ${n} bytes`);
  }

  const s3 = createS3({ s3Endpoint: bench.stores.s3Endpoint, s3Region: "us-east-1", s3AccessKeyId: "S3RVER", s3SecretAccessKey: "S3RVER" });
  async function storePut(i: number): Promise<string> {
    const key = `bench/raw-${i}-${Date.now()}`;
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bench.stores.bucket, Key: key }), { expiresIn: 600 });
    const res = await fetch(url, { method: "PUT", body: new Uint8Array(payload(i)) });
    await res.arrayBuffer();
    check(res, 200, "store PUT");
    return key;
  }
  async function storeGet(key: string): Promise<void> {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bench.stores.bucket, Key: key }), { expiresIn: 600 });
    const res = await fetch(url);
    const n = (await res.arrayBuffer()).byteLength;
    check(res, 200, "store GET");
    if (n !== FILE_BYTES) throw new Error(`downloaded ${n} bytes`);
  }

  /** Runs `count` transfers with `inFlight` at a time; MB/s of file bytes, and each transfer's time. */
  async function run<T>(count: number, inFlight: number, one: (i: number) => Promise<T>): Promise<{ mbps: number; ms: number[]; out: T[] }> {
    const out: T[] = [];
    const ms: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        for (let i = next++; i < count; i = next++) {
          const t = performance.now();
          out[i] = await one(i);
          ms.push(performance.now() - t);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return { mbps: (count * FILE_BYTES) / 1e6 / seconds, ms, out };
  }

  // Warm-up: connections, JIT, token cache.
  await downloadStreamed(await viaService(0));
  await downloadPresigned(await viaPresigned(1));

  const rows: [string, number, { mbps: number; ms: number[] }][] = [];
  for (const inFlight of [1, IN_FLIGHT]) {
    const up1 = await run(FILES, inFlight, viaService);
    const up2 = await run(FILES, inFlight, viaPresigned);
    const up3 = await run(FILES, inFlight, storePut);
    const down1 = await run(FILES, inFlight, (i) => downloadStreamed(up1.out[i]!));
    const down2 = await run(FILES, inFlight, (i) => downloadPresigned(up2.out[i]!));
    const down3 = await run(FILES, inFlight, (i) => storeGet(up3.out[i]!));
    rows.push(
      ["upload through the service (multipart via gateway)", inFlight, up1],
      ["upload by presigned URL (presign + PUT + complete)", inFlight, up2],
      ["  the store alone: presigned PUT", inFlight, up3],
      ["download through the service (stream via gateway)", inFlight, down1],
      ["download by presigned URL (302 + GET from the store)", inFlight, down2],
      ["  the store alone: presigned GET", inFlight, down3],
    );
  }

  // Thumbnail latency: a 4000 x 3000 JPEG of noise (the worst case for the decoder), upload to ready.
  const jpeg = await sharp(randomBytes(4000 * 3000 * 3), { raw: { width: 4000, height: 3000, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
  const thumbMs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(jpeg)], { type: "image/jpeg" }), `photo-${i}.jpg`);
    const t = performance.now();
    const res = await fetch(`${base}/api/docs/${doc.id}/files`, { method: "POST", headers: authz, body: form });
    const f = (await res.json()) as FileView;
    check(res, 201, "image upload");
    for (let waited = 0; ; waited += 25) {
      const list = (await (await fetch(`${base}/api/docs/${doc.id}/files`, { headers: authz })).json()) as { items: FileView[] };
      if (list.items.find((x) => x.id === f.id)?.thumbnail === "ready") break;
      if (waited > 60_000) throw new Error("no thumbnail after 60 s");
      await new Promise((r) => setTimeout(r, 25));
    }
    thumbMs.push(performance.now() - t);
  }
  s3.destroy();

  console.log(`machine: ${machine()}`);
  console.log(`\n${FILES} files of ${FILE_MB} MiB each, per way (MB/s of file bytes; per-file time p50 / p90)\n`);
  console.log(`${"".padEnd(56)}${"in flight".padStart(10)}${"MB/s".padStart(9)}${"p50 ms".padStart(10)}${"p90 ms".padStart(10)}`);
  for (const [name, inFlight, r] of rows) {
    const s = summary(r.ms);
    console.log(`${name.padEnd(56)}${String(inFlight).padStart(10)}${r.mbps.toFixed(1).padStart(9)}${s.p50.toFixed(0).padStart(10)}${s.p90.toFixed(0).padStart(10)}`);
  }
  const t = summary(thumbMs);
  console.log(`\n12-megapixel JPEG (${(jpeg.length / 1e6).toFixed(1)} MB) upload through the service until its thumbnail is ready: p50 ${t.p50.toFixed(0)} ms, max ${Math.max(...thumbMs).toFixed(0)} ms (${thumbMs.length} runs)`);
} finally {
  await bench.stop();
}
