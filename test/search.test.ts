import { afterAll, afterEach, beforeAll, describe, expect, it, inject, vi } from "vitest";
import pg from "pg";
import * as Y from "yjs";
import { randomBytes } from "node:crypto";
import { TestApi, type RunningSystem } from "@palimpsest/devkit";
import type { SearchResults } from "@palimpsest/contracts";
import { startTestSystem } from "./system.ts";
import { connectClient, type CollabClient } from "./collab-client.ts";

let system: RunningSystem;
let anon: TestApi;
let db: pg.Client;
const clients: CollabClient[] = [];

beforeAll(async () => {
  system = await startTestSystem("search");
  anon = new TestApi(system.gatewayUrl());
  db = new pg.Client({ connectionString: inject("storeEnv")["DATABASE_URL"] });
  await db.connect();
});
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});
afterAll(async () => {
  await db?.end();
  await system?.stop();
});

/** A word no other test (or earlier run) wrote: each test finds only its own documents. */
const word = (prefix: string) => `${prefix}${randomBytes(5).toString("hex")}`;

async function search(api: TestApi, q: string, extra = ""): Promise<{ status: number; body: SearchResults }> {
  const res = await api.call<SearchResults>("GET", `/api/search?q=${encodeURIComponent(q)}${extra}`);
  return { status: res.status, body: res.body };
}

async function found(api: TestApi, q: string): Promise<string[]> {
  const res = await search(api, q);
  expect(res.status).toBe(200);
  return res.body.items.map((i) => i.docId);
}

async function open(docId: string, token: string): Promise<CollabClient> {
  const c = connectClient(system.gatewayUrl(), docId, token);
  clients.push(c);
  await vi.waitFor(() => expect(c.provider.synced).toBe(true), { timeout: 10_000 });
  return c;
}

/** Types paragraphs into the rich text, as TipTap stores them. */
function writeParagraphs(c: CollabClient, lines: string[]): void {
  const fragment = c.doc.getXmlFragment("default");
  c.doc.transact(() => {
    for (const line of lines) {
      const p = new Y.XmlElement("paragraph");
      p.insert(0, [new Y.XmlText(line)]);
      fragment.push([p]);
    }
  });
}

describe("full-text search", () => {
  it("finds a document by a word in its text and by its title, ranks the title match first, and marks the word in the snippet", async () => {
    const { api, auth } = await anon.newUser("Searcher");
    const term = word("quince");
    const byTitle = await api.createDoc(`Notes on ${term}`);
    const byBody = await api.createDoc("Kitchen diary");
    const c = await open(byBody.id, auth.accessToken);
    writeParagraphs(c, ["First line about nothing.", `Then we cooked the ${term} <b>jam</b> & ate it.`]);

    await vi.waitFor(async () => expect(await found(api, term)).toEqual([byTitle.id, byBody.id]), { timeout: 15_000, interval: 200 });
    const { body } = await search(api, term);
    const [titleHit, bodyHit] = body.items;
    expect(titleHit?.score).toBeGreaterThan(bodyHit?.score ?? Infinity);
    expect(titleHit).toMatchObject({ title: `Notes on ${term}`, kind: "text" });
    expect(titleHit?.snippet).toContain(`<mark>${term}</mark>`);
    expect(bodyHit?.snippet).toContain(`the <mark>${term}</mark>`);
    // Escaped, and the only tags are the marks (Postgres's parser reads `<b>` as a tag and leaves it out).
    expect(bodyHit?.snippet).toContain("&amp; ate");
    expect(bodyHit?.snippet.replace(/<\/?mark>/g, "")).not.toMatch(/[<>]/);
    // Two words: both must be there (websearch syntax), in the text or the title.
    expect(await found(api, `${term} cooked`)).toEqual([byBody.id]);
    expect(await found(api, `${term} -cooked`)).toEqual([byTitle.id]);
  });

  it("finds a board by a card's words", async () => {
    const { api, auth } = await anon.newUser("Board searcher");
    const term = word("saffron");
    const board = await api.createDoc("Pantry", "board");
    const c = await open(board.id, auth.accessToken);
    const card = new Y.Map<unknown>();
    c.doc.transact(() => {
      card.set("kind", "note");
      card.set("text", new Y.Text(`buy ${term} today`));
      c.doc.getMap("board").set("card-1", card);
    });
    await vi.waitFor(async () => expect(await found(api, term)).toEqual([board.id]), { timeout: 15_000, interval: 200 });
    const { body } = await search(api, term);
    expect(body.items[0]).toMatchObject({ kind: "board", title: "Pantry" });
    expect(body.items[0]?.snippet).toContain(`<mark>${term}</mark>`);
  });

  it("an edit becomes findable within seconds", async () => {
    const { api, auth } = await anon.newUser("Typist");
    const doc = await api.createDoc("Plain title");
    const c = await open(doc.id, auth.accessToken);
    writeParagraphs(c, ["warming up"]);
    await vi.waitFor(async () => expect((await api.call<{ items: unknown[] }>("GET", `/api/docs/${doc.id}/history`)).body.items.length).toBeGreaterThan(0));
    const term = word("medlar");
    const started = performance.now();
    writeParagraphs(c, [`now with ${term}`]);
    await vi.waitFor(async () => expect(await found(api, term)).toEqual([doc.id]), { timeout: 10_000, interval: 50 });
    process.stdout.write(`search: an edit was findable ${Math.round(performance.now() - started)} ms after it was made\n`);
  });

  it("a member finds a shared document; once removed, at once no longer; a stranger never does", async () => {
    const { api: owner, auth: ownerAuth } = await anon.newUser("Owner");
    const { api: member, auth: memberAuth } = await anon.newUser("Member");
    const { api: stranger } = await anon.newUser("Stranger");
    const titleTerm = word("loquat");
    const bodyTerm = word("damson");
    const doc = await owner.createDoc(`Shared ${titleTerm}`);
    const c = await open(doc.id, ownerAuth.accessToken);
    writeParagraphs(c, [`secret ${bodyTerm}`]);
    await owner.call("POST", `/api/docs/${doc.id}/members`, { email: memberAuth.user.email, role: "viewer" });

    await vi.waitFor(async () => expect(await found(member, bodyTerm)).toEqual([doc.id]), { timeout: 15_000, interval: 200 });
    expect(await found(member, titleTerm)).toEqual([doc.id]);
    expect(await found(stranger, bodyTerm)).toEqual([]);
    expect(await found(stranger, titleTerm)).toEqual([]);

    const removed = await owner.call("DELETE", `/api/docs/${doc.id}/members/${memberAuth.user.id}`);
    expect(removed.status).toBeLessThan(300);
    // No waiting: the very next query after the removal was answered.
    expect(await found(member, bodyTerm)).toEqual([]);
    expect(await found(member, titleTerm)).toEqual([]);
    expect(await found(owner, bodyTerm)).toEqual([doc.id]);
  });

  it("a document in the trash is not found, and is again once restored", async () => {
    const { api, auth } = await anon.newUser("Trasher");
    const term = word("sloe");
    const doc = await api.createDoc(`To bin ${term}`);
    const c = await open(doc.id, auth.accessToken);
    writeParagraphs(c, [`body ${term}`]);
    await vi.waitFor(async () => expect((await search(api, term)).body.items[0]?.snippet).toContain("body"), { timeout: 15_000, interval: 200 });
    expect((await api.call("DELETE", `/api/docs/${doc.id}`)).status).toBe(204);
    expect(await found(api, term)).toEqual([]);
    expect((await api.call("POST", `/api/docs/${doc.id}/untrash`)).status).toBe(200);
    expect(await found(api, term)).toEqual([doc.id]);
  });

  it("a purged document is not found and leaves the index", async () => {
    const { api, auth } = await anon.newUser("Purger");
    const term = word("rowan");
    const doc = await api.createDoc("Short-lived");
    const c = await open(doc.id, auth.accessToken);
    writeParagraphs(c, [`gone ${term}`]);
    await vi.waitFor(async () => expect(await found(api, term)).toEqual([doc.id]), { timeout: 15_000, interval: 200 });
    c.destroy();
    expect((await api.call("DELETE", `/api/docs/${doc.id}`)).status).toBe(204);
    expect((await api.call("DELETE", `/api/docs/${doc.id}?purge=true`)).status).toBe(204);
    expect(await found(api, term)).toEqual([]);
    // History erases the content and empties the document's head; the index follows.
    await vi.waitFor(async () => expect((await db.query("select 1 from docs.document_text where doc_id = $1", [doc.id])).rowCount).toBe(0), { timeout: 15_000, interval: 200 });
  });

  it("malformed or odd queries get a 400 or an empty answer, never a 500", async () => {
    const { api } = await anon.newUser("Fuzzer");
    await api.createDoc("Something to search");
    const bad = ["", " ", "x".repeat(201)];
    for (const q of bad) expect((await search(api, q)).status, JSON.stringify(q)).toBe(400);
    expect((await api.call("GET", "/api/search")).status).toBe(400);
    expect((await search(api, "x", "&limit=0")).status).toBe(400);
    expect((await search(api, "x", "&limit=51")).status).toBe(400);
    // A workspace the caller is not in finds nothing; an id that is no id is refused.
    const elsewhere = await search(api, "Something", "&workspaceId=w1");
    expect([elsewhere.status, elsewhere.body.items]).toEqual([200, []]);
    expect((await search(api, "x", "&workspaceId=w%201%3B")).status).toBe(400);
    const odd = ["&|!():*'\"\\", "!!!", "a & b | !c", "'unclosed", "\"", "-", "or", "foo:*", "<mark>", "\u0000", "\u0002x\u0003", "( ) ( )", "😀", "a".repeat(200)];
    for (const q of odd) {
      const res = await search(api, q);
      expect([200, 400], JSON.stringify(q)).toContain(res.status);
      if (res.status === 200) expect(Array.isArray(res.body.items)).toBe(true);
    }
    expect((await anon.call("GET", "/api/search?q=x")).status).toBe(401);
  });
});
