/**
 * History on the real 260k-edit trace, stored as events exactly as the sync service stores them:
 * how fast the edit log is projected and snapshots follow, how large the snapshots are beside the
 * raw log, how quickly any version and any diff are served (p50/p99 at random sequences), and how
 * long a fresh sync process takes to open the document (newest snapshot plus the tail).
 *
 * Run: npm run bench:history   (BENCH_TRACE_EDITS=<n> for a shorter trace)
 */
import { headers as natsHeaders, connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import pg from "pg";
import type * as Y from "yjs";
import { Streams, subjects, writeEditHeaders, type DiffView, type EditView, type Page, type VersionView } from "@palimpsest/contracts";
import { TestApi, natsOptionsFromEnv, waitUntil } from "@palimpsest/devkit";
import { connectClient } from "../test/collab-client.ts";
import { fmt, machine, startBenchSystem, summary } from "./bench-system.ts";
import { loadRichTrace } from "./trace-data.ts";

const limit = process.env["BENCH_TRACE_EDITS"] ? Number(process.env["BENCH_TRACE_EDITS"]) : undefined;
const VERSION_REQUESTS = Number(process.env["BENCH_VERSION_REQUESTS"] ?? 200);
const DIFF_REQUESTS = Number(process.env["BENCH_DIFF_REQUESTS"] ?? 30);
const t0 = performance.now();
const trace = loadRichTrace(limit);
console.log(`machine: ${machine()}`);
console.log(`trace: ${trace.updates.length} updates, ${trace.endContent.length} characters (prepared in ${Math.round(performance.now() - t0)} ms)`);

const bench = await startBenchSystem({ env: { SNAPSHOT_SWEEP_MS: "250", SNAPSHOT_INLINE_MAX_BYTES: String(256 * 1024) } });
const db = new pg.Client({ connectionString: bench.stores.databaseUrl });
await db.connect();
const nc = await connect(natsOptionsFromEnv(bench.stores.env));
try {
  const anon = new TestApi(bench.system.gatewayUrl());
  const { api, auth } = await anon.newUser("Author");
  const doc = await api.createDoc("The paper");
  const js = jetstream(nc);

  // 1. Store the trace as edit events, pipelined (256 in flight), with the sync service's headers.
  let started = performance.now();
  const inFlight = new Set<Promise<unknown>>();
  for (const update of trace.updates) {
    const h = natsHeaders();
    writeEditHeaders(h, { author: auth.user.id, client: "bench-trace", replica: "bench" });
    const p = js.publish(subjects.edits(doc.id), update, { headers: h });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if (inFlight.size >= 256) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const storeMs = performance.now() - started;
  const n = trace.updates.length;
  console.log(`\nstored ${n} edit events in ${(storeMs / 1000).toFixed(1)} s (${Math.round(n / (storeMs / 1000))} events/s)`);

  // 2. The edit log projection (hash chain included) catches up.
  started = performance.now();
  await waitUntil("edit log", async () => {
    const h = await api.get<Page<EditView>>(`/api/docs/${doc.id}/history?after=${n - 1}&limit=1`);
    return h.body.items[0]?.seq === n;
  }, { timeoutMs: 600_000, intervalMs: 250 });
  const projMs = performance.now() - started;
  console.log(`edit log projected ${Math.round(projMs)} ms after the last append (whole log: about ${Math.round(n / ((storeMs + projMs) / 1000))} events/s end to end)`);

  // 3. Snapshots follow: every 1,000 edits.
  started = performance.now();
  await waitUntil("snapshots", async () => {
    const r = await db.query<{ seq: string }>("select max(seq)::text as seq from snapshots where doc_id = $1", [doc.id]);
    return Number(r.rows[0]?.seq ?? 0) >= n - 1000;
  }, { timeoutMs: 900_000, intervalMs: 500 });
  const snapMs = performance.now() - started;
  const snaps = await db.query<{ n: string; total: string; newest: string; inline: string }>(
    `select count(*)::text as n, sum(size)::text as total,
            (select size from snapshots where doc_id = $1 order by seq desc limit 1)::text as newest,
            count(*) filter (where state is not null)::text as inline
     from snapshots where doc_id = $1`,
    [doc.id],
  );
  const s = snaps.rows[0]!;
  const stream = await (await jetstreamManager(nc)).streams.info(Streams.edits);
  const rawPayload = trace.updates.reduce((a, u) => a + u.byteLength, 0);
  console.log(`snapshots caught up ${Math.round(snapMs)} ms after the edit log`);
  console.log(`\nstorage: raw log in JetStream ${(stream.state.bytes / 1e6).toFixed(1)} MB (${(rawPayload / 1e6).toFixed(1)} MB of update bytes)`);
  console.log(`         ${s.n} snapshots, ${(Number(s.total) / 1e6).toFixed(1)} MB in all (${s.inline} inline in Postgres, the rest in S3); newest ${(Number(s.newest) / 1e3).toFixed(0)} kB`);
  console.log(`         newest snapshot / raw log: ${((Number(s.newest) / stream.state.bytes) * 100).toFixed(2)} %`);
  const extra = await db.query<{ chunks: string; chunk_bytes: string; copied: string }>(
    `select (select count(*) from edit_chunks where doc_id = $1)::text as chunks,
            (select coalesce(sum(octet_length(update)), 0) from edit_chunks where doc_id = $1)::text as chunk_bytes,
            (select coalesce(sum(octet_length(update)), 0) from edit_log where doc_id = $1)::text as copied`,
    [doc.id],
  );
  const e = extra.rows[0]!;
  console.log(`         ${e.chunks} chunks of merged updates, ${(Number(e.chunk_bytes) / 1e6).toFixed(1)} MB; update bytes copied into the edit log ${(Number(e.copied) / 1e6).toFixed(1)} MB`);

  // 4. Any version, at random sequences.
  const seqs = Array.from({ length: VERSION_REQUESTS }, () => 1 + Math.floor(Math.random() * n));
  for (const q of seqs.slice(0, 10)) await api.get(`/api/docs/${doc.id}/versions/${q}`);
  const lat: number[] = [];
  for (const q of seqs) {
    const t = performance.now();
    const v = await api.get<VersionView>(`/api/docs/${doc.id}/versions/${q}`);
    lat.push(performance.now() - t);
    if (v.status !== 200) throw new Error(`version ${q}: ${v.status}`);
  }
  const vs = summary(lat);
  const last = await api.get<VersionView>(`/api/docs/${doc.id}/versions/${n}`);
  if (last.body.text !== trace.endContent) throw new Error("the newest version's text is not the trace's end content");
  console.log(`\nGET /versions/:seq at ${VERSION_REQUESTS} random seqs (text, Markdown and Yjs state): p50 ${fmt(vs.p50)} p90 ${fmt(vs.p90)} p99 ${fmt(vs.p99)}`);

  // 5. Diffs ("Show changes") over the last 20 and 200 versions before random points, as the history
  // panel asks for them; the reply carries the plain text's changes and, for rich text, the
  // formatted document with the changes marked.
  for (const span of [20, 200]) {
    const ends = Array.from({ length: DIFF_REQUESTS }, () => span + Math.floor(Math.random() * (n - span)));
    const times: number[] = [];
    let bytes = 0;
    let formatted = 0;
    for (const to of ends) {
      const t = performance.now();
      const res = await fetch(`${api.baseUrl}/api/docs/${doc.id}/diff?from=${to - span}&to=${to}`, { headers: { authorization: `Bearer ${api.token}` } });
      const body = await res.text();
      times.push(performance.now() - t);
      if (res.status !== 200) throw new Error(`diff to ${to}: ${res.status} ${body.slice(0, 200)}`);
      bytes += body.length;
      if ((JSON.parse(body) as DiffView).rich) formatted++;
    }
    const ds = summary(times);
    console.log(`GET /diff over ${span} versions at ${DIFF_REQUESTS} random points: p50 ${fmt(ds.p50)} p90 ${fmt(ds.p90)} p99 ${fmt(ds.p99)}; reply ${(bytes / DIFF_REQUESTS / 1e3).toFixed(0)} kB on average, formatted in ${formatted} of ${DIFF_REQUESTS}`);
  }

  // 6. Opening the document in a fresh sync process, through the gateway.
  const opens: number[] = [];
  for (let i = 0; i < 3; i++) {
    const sync = bench.system.byName("sync")[0]!;
    await sync.process.stop();
    await bench.system.start();
    const t = performance.now();
    const c = connectClient(bench.system.gatewayUrl(), doc.id, auth.accessToken);
    await waitUntil("open", async () => c.provider.synced && c.doc.getXmlFragment("default").length > 0, { timeoutMs: 120_000, intervalMs: 5 });
    opens.push(performance.now() - t);
    const text = (c.doc.getXmlFragment("default").get(0) as Y.XmlElement).get(0)?.toString() ?? "";
    if (text.length === 0) throw new Error("opened document is empty");
    c.destroy();
  }
  console.log(`open through sync (fresh process; connect, auth, snapshot + tail, sync): ${opens.map((o) => fmt(o)).join(", ")}`);
} finally {
  await nc.close();
  await db.end();
  await bench.stop();
}
