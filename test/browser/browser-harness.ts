// What every browser test shares: the whole system plus Debian's Chromium for one test file,
// people with accounts, windows (each its own browser context, so its own storage and session)
// signed in as them, and ways to read the page the way a person sees it.

import fs from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { afterAll, beforeAll, expect, vi } from "vitest";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { TestApi, type RunningSystem, type SystemOptions } from "@palimpsest/devkit";
import type { AuthResult, DocView } from "@palimpsest/contracts";
import { startTestSystem } from "../system.ts";
import { launchChromium } from "./chromium.ts";
import { ensureWebBuilt, repoRoot } from "../../scripts/web-build.ts";

const artifacts = path.join(repoRoot, "test-artifacts");
/** The machine is shared by several workers: give the browser room. */
export const WAIT = { timeout: 30_000, interval: 100 };
export const PASSWORD = "a long enough passphrase";

/** Where a test keeps a screenshot (test-artifacts/ at the repository root). */
export function artifact(name: string): string {
  return path.join(artifacts, name);
}

export interface Person {
  name: string;
  email: string;
  auth: AuthResult;
  api: TestApi;
}

/** A /collab WebSocket a page opened, and what went over it. */
export interface CollabSocket {
  url: string;
  closed: boolean;
  /** Frames the page sent, of any kind. */
  sent: number;
  /** Document updates the page sent (y-websocket: sync message, update step). */
  updatesSent: number;
  /** Presence messages the page received (y-websocket: awareness). */
  awarenessReceived: number;
}

export interface UserWindow {
  context: BrowserContext;
  page: Page;
  /** Uncaught errors ("[label] page error: …") and console errors ("[label] console: …") of the page. */
  errors: string[];
  sockets: CollabSocket[];
}

export interface BrowserSystem {
  readonly system: RunningSystem;
  /** A new account, made through the API (the sign-up form has its own test). */
  person(name: string): Promise<Person>;
  /**
   * A new browser context with one page; `label` prefixes its errors. `blockServiceWorker`
   * for tests that intercept requests: what a service worker answers never reaches page.route.
   * `phone`: 390 x 844, touch.
   */
  open(label: string, opts?: { blockServiceWorker?: boolean; phone?: boolean }): Promise<UserWindow>;
}

// y-websocket's first byte: 0 sync (then 0 step 1, 1 step 2, 2 update), 1 awareness.
const MESSAGE_SYNC = 0;
const SYNC_UPDATE = 2;
const MESSAGE_AWARENESS = 1;

/** Starts the system and Chromium once for a test file; closes every window after it. */
export function useBrowserSystem(name: string, opts: Omit<SystemOptions, "storeEnv" | "logDir"> = {}): BrowserSystem {
  let system: RunningSystem | undefined;
  let browser: Browser | undefined;
  // Why Chromium did not start (say, it is not installed): every test fails with it, none is skipped.
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
    system = await startTestSystem(name, opts);
    await launching;
  });

  afterAll(async () => {
    await launching;
    for (const context of contexts.splice(0)) await context.close().catch(() => {});
    await browser?.close();
    await system?.stop();
  });

  const need = (): RunningSystem => {
    if (!system) throw new Error("the system is not started yet (use it inside tests)");
    return system;
  };

  return {
    get system() {
      return need();
    },
    async person(personName) {
      const email = `${personName.toLowerCase().replace(/\W+/g, "-")}-${randomUUID()}@example.test`;
      const anon = new TestApi(need().gatewayUrl());
      const res = await anon.post<AuthResult>("/api/auth/register", { email, password: PASSWORD, name: personName });
      if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
      return { name: personName, email, auth: res.body, api: anon.withToken(res.body.accessToken) };
    },
    async open(label, opts = {}) {
      if (browserProblem !== undefined) throw browserProblem;
      if (!browser) throw new Error("the browser did not start");
      const context = await browser.newContext({
        baseURL: need().gatewayUrl(),
        // A phone: the width and touch of a current iPhone or Pixel, where the app must work too;
        // otherwise a small laptop's screen.
        ...(opts.phone ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true } : { viewport: { width: 1280, height: 800 } }),
        serviceWorkers: opts.blockServiceWorker ? "block" : "allow",
      });
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(WAIT.timeout);
      const win: UserWindow = { context, page, errors: [], sockets: [] };
      page.on("pageerror", (err) => win.errors.push(`[${label}] page error: ${err.message}`));
      page.on("console", (msg) => {
        if (msg.type() === "error") win.errors.push(`[${label}] console: ${msg.text()}`);
      });
      page.on("websocket", (ws) => {
        if (!new URL(ws.url()).pathname.startsWith("/collab/")) return;
        const socket: CollabSocket = { url: ws.url(), closed: false, sent: 0, updatesSent: 0, awarenessReceived: 0 };
        win.sockets.push(socket);
        ws.on("close", () => {
          socket.closed = true;
        });
        ws.on("framesent", ({ payload }) => {
          socket.sent++;
          if (typeof payload !== "string" && payload[0] === MESSAGE_SYNC && payload[1] === SYNC_UPDATE) socket.updatesSent++;
        });
        ws.on("framereceived", ({ payload }) => {
          if (typeof payload !== "string" && payload[0] === MESSAGE_AWARENESS) socket.awarenessReceived++;
        });
      });
      return win;
    },
  };
}

/** Signs in on the start page and waits for the dashboard. */
export async function signIn(page: Page, person: Pick<Person, "email">): Promise<void> {
  await page.goto("/");
  await fillSignIn(page, person.email);
  await page.getByRole("heading", { name: "Documents" }).waitFor();
}

/** Opens a text document's link, signs in on the sign-in screen it shows, and waits for the editor. */
export async function signInAt(page: Page, docPath: string, person: Pick<Person, "email">): Promise<void> {
  await page.goto(docPath);
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await fillSignIn(page, person.email);
  await page.waitForURL((url) => url.pathname === docPath);
  await editorOf(page).waitFor();
}

async function fillSignIn(page: Page, email: string): Promise<void> {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

/** Shares `doc` (owned by `owner`) with `person`. */
export async function share(owner: Person, doc: DocView, person: Person, role: "editor" | "commenter" | "viewer"): Promise<void> {
  const res = await owner.api.post(`/api/docs/${doc.id}/members`, { email: person.email, role });
  if (res.status !== 201) throw new Error(`share failed: ${res.status} ${JSON.stringify(res.body)}`);
}

/**
 * Two people in two windows on one document: the first owns it and shares it with the second as
 * an editor; both are signed in with the document open and connected.
 */
export async function twoEditors(
  env: BrowserSystem,
  names: [owner: string, editor: string],
  title: string,
  kind: "text" | "board" = "text",
): Promise<{ owner: Person; editor: Person; doc: DocView; A: UserWindow; B: UserWindow }> {
  const owner = await env.person(names[0]);
  const editor = await env.person(names[1]);
  const doc = await owner.api.createDoc(title, kind);
  await share(owner, doc, editor, "editor");
  const A = await env.open("A");
  const B = await env.open("B");
  await signIn(A.page, owner);
  await signIn(B.page, editor);
  const open = kind === "board" ? openBoard : openText;
  await open(A.page, doc);
  await open(B.page, doc);
  return { owner, editor, doc, A, B };
}

/** Opens a text document (signed in already) and waits until it is loaded and connected. */
export async function openText(page: Page, doc: DocView): Promise<void> {
  await page.goto(`/d/${doc.id}`);
  await page.getByTestId("doc-title").filter({ hasText: doc.title }).waitFor();
  await page.locator('[data-testid="editor"][data-loaded="true"]').waitFor();
  await waitForStatus(page, ["online", "saved"]);
}

/** Opens a board (signed in already) and waits until it is loaded and connected. */
export async function openBoard(page: Page, doc: DocView): Promise<void> {
  await page.goto(`/b/${doc.id}`);
  await page.getByTestId("doc-title").filter({ hasText: doc.title }).waitFor();
  await page.locator('[data-testid="board"][data-loaded="true"]').waitFor();
  await waitForStatus(page, ["online", "saved"]);
}

export const statusOf = (page: Page): Promise<string | null> => page.getByTestId("status").textContent();

/**
 * Waits for one of `statuses`: ["saved"] once every edit made here is acknowledged by the
 * server; ["online", "saved"] for connected and up to date (a reader, with nothing to save, is "online").
 */
export async function waitForStatus(page: Page, statuses: string[]): Promise<void> {
  await vi.waitFor(async () => expect(statuses).toContain(await statusOf(page)), WAIT);
}

export const editorOf = (page: Page): Locator => page.locator('[data-testid="editor"] .ProseMirror');

/**
 * Text of a ProseMirror view as the reader sees it: without other people's caret labels, and
 * without the checkboxes' labels that only screen readers hear.
 */
export function visibleText(root: Locator): Promise<string> {
  // Runs in the page; this project's type check has no DOM library, so the element is untyped.
  return root.evaluate((element) => {
    const copy = element.cloneNode(true);
    for (const hidden of copy.querySelectorAll('.collaboration-carets__caret, ul[data-type="taskList"] > li > label')) hidden.remove();
    return String(copy.textContent ?? "");
  });
}

export const textOf = (page: Page): Promise<string> => visibleText(editorOf(page));

// Page-side globals, typed here: this project's type check has no DOM library.
interface PageGlobals {
  localStorage: { getItem(key: string): string | null };
  indexedDB: { databases(): Promise<{ name?: string }[]> };
  navigator: { serviceWorker: { ready: Promise<{ active: { state: string } | null }> } };
  palimpsestTestMark?: boolean;
}

/** The names of this page's IndexedDB databases. */
export function databasesOf(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const { indexedDB } = globalThis as unknown as PageGlobals;
    return (await indexedDB.databases()).map((db) => String(db.name ?? ""));
  });
}

/** Waits until the page's service worker is active, so the app itself can start offline. */
export async function waitForOfflineApp(page: Page): Promise<void> {
  await vi.waitFor(async () => {
    const state = await page.evaluate(async () => {
      const { navigator } = globalThis as unknown as PageGlobals;
      const registration = await navigator.serviceWorker.ready;
      return registration.active?.state ?? null;
    });
    expect(state).toBe("activated");
  }, WAIT);
}

/** The session the page keeps (the access token is replaced at every refresh; the refresh token is an HttpOnly cookie). */
export async function storedSession(page: Page): Promise<{ accessToken: string } | null> {
  const raw = await page.evaluate(() => (globalThis as unknown as PageGlobals).localStorage.getItem("palimpsest.session"));
  return raw ? (JSON.parse(raw) as { accessToken: string }) : null;
}

/**
 * Marks the page so a test can tell it was never reloaded: a reload or navigation that
 * reloads the document clears the mark.
 */
export async function markPage(page: Page): Promise<void> {
  await page.evaluate(() => {
    (globalThis as unknown as PageGlobals).palimpsestTestMark = true;
  });
}

export async function stillMarked(page: Page): Promise<boolean> {
  return page.evaluate(() => (globalThis as unknown as PageGlobals).palimpsestTestMark === true);
}

/**
 * A window's errors minus what the browser itself logs for failures the app handles: HTTP
 * errors it shows as screens ("Failed to load resource"), and requests and sockets refused
 * while offline.
 */
export function unexpectedErrors(win: UserWindow): string[] {
  return win.errors.filter((error) => !/Failed to load resource|ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_REFUSED|WebSocket connection to .* failed/.test(error));
}

/** An accessibility rule a page breaks, as axe-core reports it. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * Runs axe-core (the WCAG 2.x A and AA rules) on the page as it is now and returns the serious
 * and critical violations, each with the elements it found.
 */
export async function accessibilityViolations(page: Page): Promise<AxeViolation[]> {
  const source = await fs.promises.readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
  // Evaluated through the debugging protocol: the app's Content Security Policy refuses inline scripts, rightly.
  await page.evaluate(source);
  const found = await page.evaluate(async () => {
    type Result = { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] };
    const { axe } = globalThis as unknown as { axe: { run(options: unknown): Promise<{ violations: Result[] }> } };
    const results = await axe.run({ runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
    return results.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.map(String).join(" ")) }));
  });
  return found.filter((v) => v.impact === "serious" || v.impact === "critical");
}
