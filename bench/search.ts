/**
 * Full-text search at 10,000 documents: query latency through the gateway (p50/p99) for a user who
 * may read 1,000 of them, over queries that match a few, many or no documents, and the time from
 * an edit (typed over /collab) to the document being found by the new word.
 *
 * The 10,000 documents are written straight into the docs service's read model and search index
 * (documents, members, document_text), as a rebuild would leave them: creating them through the
 * API would measure the command path, not search. Their text is drawn from a Zipf-like vocabulary,
 * so common words match thousands of documents and rare ones a handful.
 *
 * Run: npm run bench:search   (BENCH_SEARCH_DOCS, BENCH_SEARCH_READABLE, BENCH_SEARCH_QUERIES, BENCH_SEARCH_EDITS)
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import * as Y from "yjs";
import type { SearchResults } from "@palimpsest/contracts";
import { TestApi, waitUntil } from "@palimpsest/devkit";
import { connectClient } from "../test/collab-client.ts";
import { fmt, machine, startBenchSystem, summary } from "./bench-system.ts";

const DOCS = Number(process.env["BENCH_SEARCH_DOCS"] ?? 10_000);
const READABLE = Number(process.env["BENCH_SEARCH_READABLE"] ?? 1_000);
/** The workspace the searcher is a member of, and how many others hold everyone else's documents. */
const SEARCHER_WORKSPACE = "bench-ws-0";
const OTHER_WORKSPACES = 20;
const QUERIES = Number(process.env["BENCH_SEARCH_QUERIES"] ?? 400);
const EDITS = Number(process.env["BENCH_SEARCH_EDITS"] ?? 20);
const WORDS_PER_DOC = 300;
const VOCABULARY = 20_000;

// A fixed seed: every run searches the same corpus.
let seed = 42;
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
const vocabulary = Array.from({ length: VOCABULARY }, (_, i) => `w${i.toString(36)}x`);
/** Word i drawn with probability about 1/(i+1): a Zipf law, as in natural text. */
const zipfWord = () => vocabulary[Math.min(VOCABULARY - 1, Math.floor(Math.exp(random() * Math.log(VOCABULARY + 1))) - 1)]!;
const text = (n: number) => Array.from({ length: n }, zipfWord).join(" ");

console.log(`machine: ${machine()}`);
const bench = await startBenchSystem();
const db = new pg.Client({ connectionString: bench.stores.databaseUrl });
await db.connect();
try {
  const anon = new TestApi(bench.system.gatewayUrl());
  const { api, auth } = await anon.newUser("Searcher");
  const other = randomUUID();

  let started = performance.now();
  const now = new Date();
  const workspaceIds = [SEARCHER_WORKSPACE, ...Array.from({ length: OTHER_WORKSPACES }, (_, i) => `bench-ws-${i + 1}`)];
  await db.query(`insert into docs.workspaces (id, name, created_at, version) select id, id, $2, 1 from unnest($1::text[]) as t(id)`, [workspaceIds, now]);
  await db.query(
    `insert into docs.workspace_members (workspace_id, user_id, role, added_at) select id, $2, 'member', $3::timestamptz from unnest($1::text[]) as t(id)
     union all select $4, $5, 'member', $3::timestamptz`,
    [workspaceIds.slice(1), other, now, SEARCHER_WORKSPACE, auth.user.id],
  );
  for (let from = 0; from < DOCS; from += 500) {
    const ids: string[] = [];
    const titles: string[] = [];
    const bodies: string[] = [];
    for (let i = from; i < Math.min(DOCS, from + 500); i++) {
      ids.push(`bench-${i}`);
      titles.push(`${text(3)} ${i}`);
      bodies.push(text(WORDS_PER_DOC));
    }
    // Half of what the searcher may read is their own; the other half reaches them through a
    // workspace they are a member of. Everyone else's documents are spread over other workspaces.
    const owners = ids.map((_, k) => (from + k < READABLE && (from + k) % 2 === 0 ? auth.user.id : other));
    const workspaces = ids.map((_, k) => (from + k < READABLE ? ((from + k) % 2 === 0 ? null : SEARCHER_WORKSPACE) : `bench-ws-${1 + ((from + k) % OTHER_WORKSPACES)}`));
    await db.query(
      `insert into docs.documents (id, title, kind, owner_id, created_at, updated_at, trashed_at, version, workspace_id)
       select id, title, 'text', owner, $4, $4, null, 1, ws from unnest($1::text[], $2::text[], $3::text[], $5::text[]) as t(id, title, owner, ws)`,
      [ids, titles, owners, now, workspaces],
    );
    await db.query(`insert into docs.document_members (doc_id, user_id, role, added_at) select id, owner, 'owner', $3 from unnest($1::text[], $2::text[]) as t(id, owner)`, [ids, owners, now]);
    await db.query(
      `insert into docs.document_text (doc_id, body, tsv, version)
       select id, body, setweight(to_tsvector('simple'::regconfig, body), 'B'), 1 from unnest($1::text[], $2::text[]) as t(id, body)`,
      [ids, bodies],
    );
  }
  await db.query("analyze docs.documents; analyze docs.document_members; analyze docs.document_text; analyze docs.workspace_members; analyze docs.workspaces");
  console.log(
    `seeded ${DOCS} documents of ${WORDS_PER_DOC} words (${READABLE} readable by the searcher, half of them through a workspace; the rest in ${OTHER_WORKSPACES} other workspaces) in ${Math.round(performance.now() - started)} ms`,
  );

  // Queries by how many of all documents they match: the most common words, middling, rare, pairs, titles, nothing.
  const kinds: Record<string, () => string> = {
    "common word": () => vocabulary[Math.floor(random() * 5)]!,
    "middling word": () => vocabulary[50 + Math.floor(random() * 200)]!,
    "rare word": () => vocabulary[5_000 + Math.floor(random() * 10_000)]!,
    "two words": () => `${vocabulary[Math.floor(random() * 100)]!} ${vocabulary[100 + Math.floor(random() * 1_000)]!}`,
    "phrase and exclusion": () => `"${vocabulary[0]!} ${vocabulary[1]!}" -${vocabulary[2]!}`,
    "no match": () => `nothing${Math.floor(random() * 1e9)}`,
    "common word, one workspace": () => `${vocabulary[Math.floor(random() * 5)]!}&workspaceId=${SEARCHER_WORKSPACE}`,
  };
  const all: number[] = [];
  console.log("\nquery (GET /api/search, limit 20, one client)      p50        p99       mean   hits (mean)");
  for (const [name, make] of Object.entries(kinds)) {
    const samples: number[] = [];
    let hits = 0;
    for (let i = 0; i < Math.ceil(QUERIES / Object.keys(kinds).length); i++) {
      const q = make();
      const t = performance.now();
      const [words, filter] = q.split("&");
      const res = await api.call<SearchResults>("GET", `/api/search?q=${encodeURIComponent(words!)}&limit=20${filter ? `&${filter}` : ""}`);
      samples.push(performance.now() - t);
      if (res.status !== 200) throw new Error(`search ${q}: ${res.status}`);
      hits += res.body.items.length;
    }
    all.push(...samples);
    const s = summary(samples);
    console.log(`  ${name.padEnd(46)} ${fmt(s.p50).padStart(10)} ${fmt(s.p99).padStart(10)} ${fmt(s.mean).padStart(10)}   ${(hits / s.n).toFixed(1)}`);
  }
  const s = summary(all);
  console.log(`  ${"all".padEnd(46)} ${fmt(s.p50).padStart(10)} ${fmt(s.p99).padStart(10)} ${fmt(s.mean).padStart(10)}   (n=${s.n})`);
  const plan = await db.query<{ "QUERY PLAN": string }>(
    `explain analyze select count(*) from docs.document_text t join docs.document_members m on m.doc_id = t.doc_id and m.user_id = $1
     where t.tsv @@ websearch_to_tsquery('simple', $2)`,
    [auth.user.id, vocabulary[0]],
  );
  console.log(`  (the most common word's body matches for the searcher, in SQL alone: ${plan.rows.at(-1)?.["QUERY PLAN"] ?? "?"})`);

  // Edit to findable: type a new word into a real document and search for it until it is found.
  const doc = await api.createDoc("Edited while searched");
  const c = connectClient(bench.system.gatewayUrl(), doc.id, auth.accessToken);
  await waitUntil("synced", async () => c.provider.synced, { timeoutMs: 10_000, intervalMs: 20 });
  const fragment = c.doc.getXmlFragment("default");
  const lags: number[] = [];
  for (let i = 0; i < EDITS; i++) {
    const word = `fresh${i}z${Math.floor(random() * 1e9)}`;
    started = performance.now();
    const p = new Y.XmlElement("paragraph");
    p.insert(0, [new Y.XmlText(`${text(20)} ${word}`)]);
    fragment.push([p]);
    await waitUntil("findable", async () => (await api.call<SearchResults>("GET", `/api/search?q=${word}`)).body.items.length === 1, { timeoutMs: 30_000, intervalMs: 20 });
    lags.push(performance.now() - started);
  }
  c.destroy();
  const l = summary(lags);
  console.log(`\nedit to findable (typed over /collab, searched every 20 ms), ${l.n} edits: p50 ${fmt(l.p50)}, p90 ${fmt(l.p90)}, max ${fmt(Math.max(...lags))}`);
} finally {
  await db.end();
  await bench.stop();
}
