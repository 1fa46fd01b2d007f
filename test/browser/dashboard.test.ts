// The dashboard and the session in a real browser: my documents and boards and those shared
// with me with my role; create, rename, trash (with undo) and restore from the Trash view,
// search by title. Access tokens live 12 s here, so the session renews itself in the
// background while the person works; a session ended elsewhere sends them to the sign-in
// screen with an explanation and back to their page after; no access and an unreachable
// server get screens of their own.

import { describe, expect, it, vi } from "vitest";
import type { Page } from "playwright-core";
import * as Y from "yjs";
import { connectClient } from "../collab-client.ts";
import { artifact, PASSWORD, share, signIn, storedSession, unexpectedErrors, useBrowserSystem, waitForStatus, WAIT } from "./browser-harness.ts";

const env = useBrowserSystem("browser-dashboard", { env: { ACCESS_TOKEN_TTL_SECONDS: "12" } });

const row = (page: Page, title: string) => page.locator(`[data-testid="doc-list"] li[data-title="${title}"]`);
const titles = (page: Page): Promise<string[]> => page.locator('[data-testid="doc-list"] li').evaluateAll((items) => items.map((item) => String(item.getAttribute("data-title"))));

describe("the dashboard in a real browser", () => {
  it("lists mine and shared ones with my role; creates, renames, trashes and restores, and searches", async () => {
    const ada = await env.person("Ada Dashboard");
    const bob = await env.person("Bob Sharer");
    await ada.api.createDoc("Quarterly report");
    await ada.api.createDoc("Roadmap", "board");
    const bobs = await bob.api.createDoc("Bob's notes");
    await share(bob, bobs, ada, "commenter");

    const A = await env.open("A");
    const a = A.page;
    await signIn(a, ada);
    await row(a, "Bob's notes").waitFor();
    expect((await titles(a)).sort()).toEqual(["Bob's notes", "Quarterly report", "Roadmap"]);
    // My role on each, and whose it is.
    expect(await row(a, "Bob's notes").locator("[data-role]").getAttribute("data-role")).toBe("commenter");
    expect(await row(a, "Bob's notes").getByText("Shared with you").count()).toBe(1);
    expect(await row(a, "Roadmap").locator("[data-role]").getAttribute("data-role")).toBe("owner");
    expect(await row(a, "Roadmap").locator("a").getAttribute("href")).toMatch(/^\/b\//);
    expect(await row(a, "Quarterly report").locator("a").getAttribute("href")).toMatch(/^\/d\//);
    // A commenter can neither rename nor trash someone else's document.
    expect(await row(a, "Bob's notes").getByRole("button").count()).toBe(0);

    // ---- Create a board from the dashboard; it opens at /b/:id.
    await a.getByPlaceholder("Title of a new document").fill("Sprint board");
    await a.getByLabel("Kind").selectOption("board");
    await a.getByRole("button", { name: "Create", exact: true }).click();
    await a.waitForURL(/\/b\/[^/]+$/);
    await a.locator('[data-testid="board"][data-loaded="true"]').waitFor();
    await a.getByTitle("All documents").click();
    await row(a, "Sprint board").waitFor();

    // ---- Rename in place; the server keeps it.
    await a.getByRole("button", { name: "Rename Quarterly report" }).click();
    await a.getByLabel("New title").fill("Q3 report");
    await a.keyboard.press("Enter");
    await row(a, "Q3 report").waitFor();
    await a.reload();
    await row(a, "Q3 report").waitFor();
    expect(await row(a, "Quarterly report").count()).toBe(0);

    // ---- Trash, undo from the toast, trash again.
    await a.getByRole("button", { name: "Move Roadmap to the trash" }).click();
    await a.getByTestId("toast").getByText("Moved “Roadmap” to the trash.").waitFor();
    await vi.waitFor(async () => expect(await row(a, "Roadmap").count()).toBe(0), WAIT);
    await a.getByTestId("toast").getByRole("button", { name: "Undo" }).click();
    await row(a, "Roadmap").waitFor();
    const roadmapHref = await row(a, "Roadmap").locator("a").getAttribute("href");
    await a.getByRole("button", { name: "Move Roadmap to the trash" }).click();
    await vi.waitFor(async () => expect(await row(a, "Roadmap").count()).toBe(0), WAIT);

    // ---- In the trash it cannot be opened, only restored; its link says it is gone.
    await a.getByRole("button", { name: "Trash", exact: true }).click();
    await a.getByRole("heading", { name: "Trash" }).waitFor();
    await row(a, "Roadmap").waitFor();
    expect(await titles(a)).toEqual(["Roadmap"]);
    expect(await row(a, "Roadmap").locator("a").count()).toBe(0);
    await a.goto(roadmapHref ?? "/");
    await a.getByRole("heading", { name: "Document not found" }).waitFor();
    await a.goto("/?view=trash");
    await row(a, "Roadmap").getByRole("button", { name: "Restore" }).click();
    await a.getByTestId("toast").getByText("Restored “Roadmap”.").waitFor();
    await a.getByText("The trash is empty.").waitFor();
    await a.getByRole("button", { name: "All documents" }).click();
    await row(a, "Roadmap").waitFor();

    // ---- Search by title, kept in the address.
    await a.getByPlaceholder("Search by title").fill("report");
    await vi.waitFor(async () => expect(await titles(a)).toEqual(["Q3 report"]), WAIT);
    expect(new URL(a.url()).searchParams.get("q")).toBe("report");
    await a.getByPlaceholder("Search by title").fill("nothing like this");
    await a.getByText("No documents match “nothing like this”.").waitFor();
    await a.getByPlaceholder("Search by title").fill("");
    await vi.waitFor(async () => expect((await titles(a)).length).toBe(4), WAIT);

    await a.screenshot({ path: artifact("dashboard.png") });
    expect(unexpectedErrors(A)).toEqual([]);
  });

  it("finds documents by their text, shows the matched words highlighted as text, and opens one from the keyboard", async () => {
    const ada = await env.person("Ada Finder");
    const doc = await ada.api.createDoc("Kitchen diary");
    const writer = connectClient(env.system.gatewayUrl(), doc.id, ada.auth.accessToken);
    await vi.waitFor(() => expect(writer.provider.synced).toBe(true), WAIT);
    const p = new Y.XmlElement("paragraph");
    p.insert(0, [new Y.XmlText('We cooked quince & plums, 2 < 3 > 1 "yes" today.')]);
    writer.doc.getXmlFragment("default").push([p]);
    // The index takes an edit in within SEARCH_INDEX_INTERVAL_MS; the page searches once per query typed.
    await vi.waitFor(async () => expect((await ada.api.get<{ items: unknown[] }>("/api/search?q=quince")).body.items).toHaveLength(1), WAIT);

    const A = await env.open("A");
    const a = A.page;
    await signIn(a, ada);
    await a.getByPlaceholder("Search by title and content").fill("quince");
    const results = a.getByTestId("content-search");
    await vi.waitFor(async () => expect(await results.getByRole("link", { name: "Kitchen diary" }).count()).toBe(1), WAIT);
    expect(await results.locator("mark").allTextContents()).toEqual(["quince"]);
    // What the document says stays text: its characters are shown as they are, in no element but the marks.
    expect(await results.locator(".search-result-snippet").textContent()).toContain('& plums, 2 < 3 > 1 "yes"');
    expect(await results.locator(".search-result-snippet :not(mark):not(span)").count()).toBe(0);
    await results.getByRole("link", { name: "Kitchen diary" }).focus();
    await a.keyboard.press("Enter");
    await a.waitForURL(new RegExp(`/d/${doc.id}$`));
    writer.destroy();
    expect(unexpectedErrors(A)).toEqual([]);
  });

  it("renews the session in the background, and an ended session returns to the page after signing in again", async () => {
    const ada = await env.person("Ada Session");
    const doc = await ada.api.createDoc("Long afternoon");
    const A = await env.open("A");
    const a = A.page;
    await signIn(a, ada);
    await a.goto(`/d/${doc.id}`);
    await a.locator('[data-testid="editor"][data-loaded="true"]').waitFor();
    const first = await storedSession(a);

    // ---- Tokens live 12 s; they are renewed before they run out, with no screen in between.
    await vi.waitFor(async () => expect((await storedSession(a))?.accessToken).not.toBe(first?.accessToken), { timeout: 30_000, interval: 250 });
    await a.locator(".ProseMirror").click();
    await a.keyboard.type("Still signed in.");
    await waitForStatus(a, ["saved"]);
    await vi.waitFor(async () => expect((await storedSession(a))?.accessToken).not.toBe(first?.accessToken), WAIT);

    // ---- The session ends elsewhere (signed out on another device): the open document
    // notices, the sign-in screen says why, and signing in leads back to the document.
    const current = await storedSession(a);
    if (!current) throw new Error("no session in the page");
    const ended = await ada.api.withToken(current.accessToken).post("/api/auth/logout", {});
    expect(ended.status).toBe(204);
    await a.getByRole("heading", { name: "Sign in" }).waitFor();
    await a.getByText("Your session expired. Please sign in again.").waitFor();
    await a.getByLabel("Email").fill(ada.email);
    await a.getByLabel("Password").fill(PASSWORD);
    await a.getByRole("button", { name: "Sign in", exact: true }).click();
    await a.waitForURL((url) => url.pathname === `/d/${doc.id}`);
    await a.locator('[data-testid="editor"][data-loaded="true"]').waitFor();
    await vi.waitFor(async () => expect(await a.locator(".ProseMirror").textContent()).toBe("Still signed in."), WAIT);
    expect(unexpectedErrors(A)).toEqual([]);
  });

  it("says clearly when a document is not shared with me and when the server cannot be reached", async () => {
    const ada = await env.person("Ada Private");
    const carol = await env.person("Carol Outsider");
    const doc = await ada.api.createDoc("Private plans");
    const board = await ada.api.createDoc("Private board", "board");

    const C = await env.open("C", { blockServiceWorker: true });
    const c = C.page;
    await signIn(c, carol);

    // ---- No access: the same answer as for a document that does not exist, and what to do.
    await c.goto(`/d/${doc.id}`);
    await c.getByRole("heading", { name: "Document not found" }).waitFor();
    await c.getByText(`isn't shared with ${carol.email}`, { exact: false }).waitFor();
    // Said once: the server's own "document not found" under the heading would only repeat it.
    expect(await c.getByTestId("document-unavailable").getByText("document not found", { exact: true }).count()).toBe(0);
    await c.goto(`/b/${board.id}`);
    await c.getByRole("heading", { name: "Document not found" }).waitFor();

    // ---- The server cannot be reached: the dashboard says so and tries again on request.
    await c.route("**/api/**", (route) => route.abort("connectionrefused"));
    await c.goto("/");
    await c.getByTestId("dashboard-unreachable").getByRole("heading", { name: "Can't reach the server" }).waitFor();
    await c.unroute("**/api/**");
    await c.getByRole("button", { name: "Try again" }).click();
    await c.getByText("No documents yet.").waitFor();
    await c.route("**/api/**", (route) => route.abort("connectionrefused"));
    await c.goto(`/b/${board.id}`);
    await c.getByRole("heading", { name: "Can't reach the server" }).waitFor();
    await c.unroute("**/api/**");
    await c.getByRole("button", { name: "Try again" }).click();
    await c.getByRole("heading", { name: "Document not found" }).waitFor();

    // ---- Shared now: the same link opens.
    await share(ada, doc, carol, "viewer");
    await c.goto(`/d/${doc.id}`);
    await c.locator('[data-testid="editor"][data-loaded="true"]').waitFor();
    await waitForStatus(c, ["online", "saved"]);
    expect(unexpectedErrors(C)).toEqual([]);
  });
});
