// A newcomer in a real browser: signs up, creates a text document from the dashboard, opens
// the same /d/:id link in a second browser context signed in as the same person, and both
// windows co-edit live with carets and presence, against the whole running system.

import fs from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { RunningSystem } from "@palimpsest/platform/testing";
import { startTestSystem } from "../system.ts";
import { launchChromium } from "./chromium.ts";
import { ensureWebBuilt, repoRoot } from "../../scripts/web-build.ts";

const artifacts = path.join(repoRoot, "test-artifacts");
const WAIT = { timeout: 20_000, interval: 100 };

let system: RunningSystem | undefined;
let browser: Browser | undefined;
/** Why Chromium did not start (say, it is not installed): every test fails with it, none is skipped. */
let browserProblem: unknown;
let launching: Promise<unknown> | undefined;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  // The gateway serves web/dist and decides at start whether it exists: build first.
  ensureWebBuilt();
  fs.mkdirSync(artifacts, { recursive: true });
  launching = launchChromium().then(
    (launched) => (browser = launched),
    (err: unknown) => (browserProblem = err),
  );
  system = await startTestSystem("browser-co-edit");
  await launching;
});

afterAll(async () => {
  await launching;
  for (const context of contexts.splice(0)) await context.close().catch(() => {});
  await browser?.close();
  await system?.stop();
});

interface UserWindow {
  page: Page;
  /** Uncaught errors and console errors of the page. */
  errors: string[];
  /** The /collab WebSockets the page opened. */
  sockets: { url: string; closed: boolean; awarenessReceived: number }[];
}

/** A new browser context (its own storage, so its own session) with one page. */
async function openWindow(label: string): Promise<UserWindow> {
  if (browserProblem !== undefined) throw browserProblem;
  if (!browser || !system) throw new Error("the system or the browser did not start");
  const context = await browser.newContext({ baseURL: system.gatewayUrl(), viewport: { width: 1200, height: 800 } });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT.timeout);
  const win: UserWindow = { page, errors: [], sockets: [] };
  page.on("pageerror", (err) => win.errors.push(`[${label}] page error: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") win.errors.push(`[${label}] console: ${msg.text()}`);
  });
  page.on("websocket", (ws) => {
    if (!new URL(ws.url()).pathname.startsWith("/collab/")) return;
    const socket = { url: ws.url(), closed: false, awarenessReceived: 0 };
    win.sockets.push(socket);
    ws.on("close", () => {
      socket.closed = true;
    });
    // y-websocket message type 1 is awareness (presence).
    ws.on("framereceived", ({ payload }) => {
      if (typeof payload !== "string" && payload[0] === 1) socket.awarenessReceived++;
    });
  });
  return win;
}

const statusOf = (page: Page): Promise<string | null> => page.getByTestId("status").textContent();
const editorOf = (page: Page) => page.locator('[data-testid="editor"] .ProseMirror');

/** The document's text as the reader sees it, without the other people's caret labels. */
function textOf(page: Page): Promise<string> {
  // Runs in the page; this project's type check has no DOM library, so the element is untyped.
  return editorOf(page).evaluate((root) => {
    const copy = root.cloneNode(true);
    for (const caret of copy.querySelectorAll(".collaboration-carets__caret")) caret.remove();
    return String(copy.textContent ?? "");
  });
}

async function waitForLiveStatus(page: Page): Promise<void> {
  await vi.waitFor(async () => expect(["saved", "online"]).toContain(await statusOf(page)), WAIT);
}

async function signUp(page: Page, name: string, email: string, password: string): Promise<void> {
  await page.goto("/");
  await page.getByRole("button", { name: "Create an account" }).click();
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: "Documents" }).waitFor();
}

async function createTextDocument(page: Page, title: string): Promise<string> {
  await page.getByPlaceholder("Title of a new document").fill(title);
  await page.getByLabel("Kind").selectOption("text");
  await page.getByRole("button", { name: "Create", exact: true }).click();
  await page.waitForURL(/\/d\/[^/]+$/);
  return new URL(page.url()).pathname;
}

describe("a newcomer co-edits in a real browser", () => {
  it("signs up, creates a document, and two windows edit it live with carets", async () => {
    const email = `newcomer-${randomUUID()}@example.test`;
    const password = "a long enough passphrase";
    const name = "Ada Newcomer";
    const title = "Our first notes";

    // ---- Window A: sign up through the form, create a text document from the dashboard.
    const A = await openWindow("A");
    const a = A.page;
    await signUp(a, name, email, password);
    await a.getByText("No documents yet.").waitFor();
    await a.screenshot({ path: path.join(artifacts, "co-edit-dashboard.png") });

    const docPath = await createTextDocument(a, title);
    await a.getByTestId("doc-title").filter({ hasText: title }).waitFor();
    await editorOf(a).waitFor();
    await waitForLiveStatus(a);
    expect(await a.title()).toBe(`${title} · Palimpsest`);
    // Alone in the document, A still hears its own presence back: y-websocket drops a
    // connection that received nothing for 30 s, so without it a lone editor reconnects.
    await vi.waitFor(() => expect(A.sockets[0]?.awarenessReceived).toBeGreaterThan(0), WAIT);

    // ---- Window B: a fresh context follows the shared link, signs in, and lands on the document.
    const B = await openWindow("B");
    const b = B.page;
    await b.goto(docPath);
    await b.getByRole("heading", { name: "Sign in" }).waitFor();
    await b.getByLabel("Email").fill(email);
    await b.getByLabel("Password").fill(password);
    await b.getByRole("button", { name: "Sign in", exact: true }).click();
    await b.waitForURL((url) => url.pathname === docPath);
    await b.getByTestId("doc-title").filter({ hasText: title }).waitFor();
    await editorOf(b).waitFor();
    await waitForLiveStatus(b);

    // ---- A types, B sees it.
    await editorOf(a).click();
    await a.keyboard.type("Hello from window A.");
    await vi.waitFor(async () => expect(await textOf(b)).toBe("Hello from window A."), WAIT);

    // ---- B types at the end, A sees it.
    await editorOf(b).click();
    await b.keyboard.press("End");
    await b.keyboard.type(" And hello from B.");
    await vi.waitFor(async () => expect(await textOf(a)).toBe("Hello from window A. And hello from B."), WAIT);

    // ---- Both type at once, at the two ends of the line; both windows end up with the same text.
    await a.keyboard.press("Home");
    await Promise.all([a.keyboard.type("Together: "), b.keyboard.type(" Done.")]);
    const together = "Together: Hello from window A. And hello from B. Done.";
    await vi.waitFor(async () => {
      expect(await textOf(a)).toBe(together);
      expect(await textOf(b)).toBe(together);
    }, WAIT);

    // ---- Presence: each window shows the other's caret, labelled with the user's name.
    await b.locator(".collaboration-carets__caret").filter({ hasText: name }).first().waitFor();
    await a.locator(".collaboration-carets__caret").filter({ hasText: name }).first().waitFor();
    // The avatar row shows who is here (the same person in both windows is one avatar).
    await b.getByTestId("presence").locator(".avatar").first().waitFor();
    expect(await b.getByTestId("presence").getAttribute("aria-label")).toContain(name);

    // ---- Both windows settle: every edit handed to the server.
    await vi.waitFor(async () => {
      expect(await statusOf(a)).toBe("saved");
      expect(await statusOf(b)).toBe("saved");
    }, WAIT);
    await b.screenshot({ path: path.join(artifacts, "co-edit-editor-b.png") });
    await a.screenshot({ path: path.join(artifacts, "co-edit-editor-a.png") });

    // One connection each, never dropped, and nothing went wrong in either page.
    for (const win of [A, B]) {
      expect(win.sockets.map((s) => s.closed)).toEqual([false]);
      expect(win.errors).toEqual([]);
    }
  });

  it("a document screen that cannot be downloaded offers a reload instead of a blank page", async () => {
    const W = await openWindow("W");
    const page = W.page;
    await signUp(page, "Grace Updated", `reload-${randomUUID()}@example.test`, "another long passphrase");
    // As after a deploy: the old tab asks for an editor file that is gone, and the gateway
    // answers with the app's index page.
    const chunk = /\/assets\/text-document-page-[^/]*\.js$/;
    await page.route(chunk, (route) => route.fulfill({ status: 200, contentType: "text/html", body: "<!doctype html><title>Palimpsest</title>" }));
    const docPath = await createTextDocument(page, "After the update");
    await page.getByRole("heading", { name: "This page could not load" }).waitFor();

    await page.unroute(chunk);
    await page.getByRole("button", { name: "Reload" }).click();
    await editorOf(page).waitFor();
    expect(new URL(page.url()).pathname).toBe(docPath);
    await waitForLiveStatus(page);
  });
});
