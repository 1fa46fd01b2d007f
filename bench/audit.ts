/**
 * Audit export and offline verification rates, on the real automerge-paper trace.
 *
 * 1. The trace (259,778 single-character edits; BENCH_AUDIT_EDITS takes the first n) is replayed
 *    into a Y.Doc (rich text: one paragraph in the XmlFragment `default`), and every update is
 *    appended straight to JetStream as the sync service appends it (same subject, headers and
 *    message id), attributed to a real user of a real document; then we wait until the history
 *    service has projected them all into the edit log.
 * 2. Export: `GET /api/docs/:id/audit` through the gateway, read as a stream into a file
 *    (the gateway pages through `rpc.history.audit`, which re-reads the bytes from the stream and
 *    checks each against the stored log).
 * 3. Verify: the verifier in this process, and `npm run audit -- verify` as a separate process
 *    (what an auditor runs, startup included); then `print` of the last version, checked against
 *    the trace's final text.
 *
 * Run: npm run bench:audit
 */
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { execFile } from "node:child_process";
import * as Y from "yjs";
import pg from "pg";
import { connect as natsConnect, headers as natsHeaders } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { editMessageId, subjects, writeEditHeaders } from "@palimpsest/contracts";
import { TestApi, natsOptionsFromEnv, repoRoot } from "@palimpsest/devkit";
import { machine, startBenchSystem } from "./bench-system.ts";
import { fileLines, verifyTrail } from "../scripts/audit-trail.ts";

const TRACE_FILE = path.join(repoRoot, "..", "shared", "data", "traces", "automerge-paper.json.gz");
const LIMIT = Number(process.env["BENCH_AUDIT_EDITS"] ?? Infinity);
const int = (v: number) => Math.round(v).toLocaleString("en-US");
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function loadTrace(): { updates: Uint8Array[]; expected: string } {
  const raw = JSON.parse(zlib.gunzipSync(fs.readFileSync(TRACE_FILE)).toString("utf8")) as { endContent: string; txns: { patches: [number, number, string][] }[] };
  const txns = raw.txns.slice(0, Math.min(raw.txns.length, LIMIT));
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on("update", (u: Uint8Array) => updates.push(u));
  const text = new Y.XmlText();
  doc.transact(() => {
    const paragraph = new Y.XmlElement("paragraph");
    paragraph.insert(0, [text]);
    doc.getXmlFragment("default").insert(0, [paragraph]);
  });
  for (const t of txns) {
    doc.transact(() => {
      for (const [pos, del, ins] of t.patches) {
        if (del > 0) text.delete(pos, del);
        if (ins !== "") text.insert(pos, ins);
      }
    });
  }
  const expected = text.toString();
  if (txns.length === raw.txns.length && expected !== raw.endContent) throw new Error("the trace replayed into a Y.Doc does not give endContent");
  return { updates, expected };
}

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string; seconds: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "scripts/audit.ts", ...args], { cwd: repoRoot, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr, seconds: (performance.now() - t0) / 1000 }),
    );
  });
}

console.log(`machine: ${machine()}`);
const trace = loadTrace();
console.log(`trace: ${int(trace.updates.length)} updates (the structure, then one per edit), ${int(trace.expected.length)} characters at the end`);

const bench = await startBenchSystem();
const nc = await natsConnect(natsOptionsFromEnv(bench.stores.env));
const db = new pg.Client({ connectionString: bench.stores.databaseUrl });
await db.connect();
try {
  const { api, auth } = await new TestApi(bench.system.gatewayUrl()).newUser("Auditor");
  const doc = await api.createDoc("The automerge paper");

  // 1. Store the trace as edit events.
  const js = jetstream(nc);
  let t0 = performance.now();
  const inFlight = new Set<Promise<unknown>>();
  for (const u of trace.updates) {
    const h = natsHeaders();
    writeEditHeaders(h, { author: auth.user.id, client: "bench-import", replica: "bench" });
    const p = js.publish(subjects.edits(doc.id), u, { msgID: editMessageId(doc.id, u), headers: h, timeout: 30_000 });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => undefined);
    if (inFlight.size >= 512) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const appendSeconds = (performance.now() - t0) / 1000;
  console.log(`stored: ${int(trace.updates.length)} events in ${appendSeconds.toFixed(1)} s (${int(trace.updates.length / appendSeconds)}/s)`);
  t0 = performance.now();
  for (const deadline = performance.now() + 600_000; ; ) {
    const r = await db.query<{ n: number }>("select count(*)::int as n from edit_log where doc_id = $1", [doc.id]);
    if ((r.rows[0]?.n ?? 0) >= trace.updates.length) break;
    if (performance.now() > deadline) throw new Error("the history projection did not catch up in 10 minutes");
    await sleep(250);
  }
  console.log(`projected into the edit log in ${((performance.now() - t0) / 1000).toFixed(1)} s more`);

  // 2. Export through the gateway, streamed into a file.
  const file = path.join(bench.dataDir, "trail.ndjson");
  t0 = performance.now();
  const res = await fetch(`${bench.system.gatewayUrl()}/api/docs/${doc.id}/audit`, { headers: { authorization: `Bearer ${auth.accessToken}` } });
  if (res.status !== 200 || !res.body) throw new Error(`export failed: ${res.status} ${await res.text()}`);
  const out = fs.createWriteStream(file);
  let bytes = 0;
  let firstByte = 0;
  for await (const chunk of res.body) {
    if (!firstByte) firstByte = performance.now() - t0;
    bytes += chunk.byteLength;
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  const exportSeconds = (performance.now() - t0) / 1000;
  let lines = 0;
  for await (const _ of fileLines(file)) lines++;
  console.log(
    `export: ${int(trace.updates.length)} edits (${int(lines)} lines, ${mib(bytes)}) in ${exportSeconds.toFixed(2)} s: ` +
      `${int(trace.updates.length / exportSeconds)} events/s, ${mib(bytes / exportSeconds)}/s; first byte after ${firstByte.toFixed(0)} ms`,
  );

  // 3. Verify offline.
  t0 = performance.now();
  const verified = await verifyTrail(fileLines(file));
  const verifySeconds = (performance.now() - t0) / 1000;
  if (!verified.ok || verified.edits !== trace.updates.length) throw new Error(`verification failed: ${JSON.stringify(verified)}`);
  console.log(`verify (in process): ${int(verified.edits)} edits + ${verified.events} events in ${verifySeconds.toFixed(2)} s: ${int(verified.edits / verifySeconds)} events/s`);
  const cli = await run(["verify", file]);
  if (cli.code !== 0) throw new Error(`npm run audit -- verify failed: ${cli.stdout}${cli.stderr}`);
  console.log(`verify (npm run audit -- verify, own process, startup included): ${cli.seconds.toFixed(2)} s: ${int(verified.edits / cli.seconds)} events/s`);
  const printed = await run(["print", file]);
  if (printed.code !== 0 || printed.stdout !== `${trace.expected}\n`) throw new Error(`print of the last version differs from the trace's text (${printed.stderr})`);
  console.log(`print --at ${int(verified.edits)} (verify + replay of every update + render): ${printed.seconds.toFixed(2)} s, equals the trace's final text`);
} finally {
  await db.end();
  await nc.close();
  await bench.stop();
}
