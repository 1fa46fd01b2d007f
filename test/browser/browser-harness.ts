// What the browser tests of boards, offline work, the dashboard and sessions share: the whole
// system plus Debian's Chromium for one test file, people with accounts, and windows (each its
// own browser context, so its own storage and session) signed in as them.

import fs from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, vi } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { TestApi, type RunningSystem, type SystemOptions } from "@palimpsest/platform/testing";
import type { AuthResult, DocView } from "@palimpsest/contracts";
import { startTestSystem } from "../system.ts";
import { launchChromium } from "./chromium.ts";
import { ensureWebBuilt, repoRoot } from "../../scripts/web-build.ts";

export const artifacts = path.join(repoRoot, "test-artifacts");
export const WAIT = { timeout: 20_000, interval: 100 };
export const PASSWORD = "a long enough passphrase";

export interface Person {
  name: string;
  email: string;
  auth: AuthResult;
  api: TestApi;
}

export interface UserWindow {
  context: BrowserContext;
  page: Page;
  /** Uncaught errors and console errors of the page. */
  errors: string[];
  /** The /collab WebSockets the page opened. */
  sockets: { url: string; closed: boolean; sent: number }[];
}

export interface BrowserSystem {
  readonly system: RunningSystem;
  readonly anon: TestApi;
  /** A new account, made through the API (the sign-up form has its own test). */
  person(name: string): Promise<Person>;
  /**
   * A new browser context with one page; `label` prefixes its errors. `blockServiceWorker`
   * for tests that intercept requests: what a service worker answers never reaches page.route.
   */
  open(label: string, opts?: { blockServiceWorker?: boolean }): Promise<UserWindow>;
}

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
    get anon() {
      return new TestApi(need().gatewayUrl());
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
        viewport: { width: 1280, height: 820 },
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
        const socket = { url: ws.url(), closed: false, sent: 0 };
        win.sockets.push(socket);
        ws.on("close", () => {
          socket.closed = true;
        });
        ws.on("framesent", () => {
          socket.sent++;
        });
      });
      return win;
    },
  };
}

export async function signIn(page: Page, person: Person): Promise<void> {
  await page.goto("/");
  await page.getByLabel("Email").fill(person.email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("heading", { name: "Documents" }).waitFor();
}

/** Shares `doc` (owned by `owner`) with `person`. */
export async function share(owner: Person, doc: DocView, person: Person, role: "editor" | "commenter" | "viewer"): Promise<void> {
  const res = await owner.api.post(`/api/docs/${doc.id}/members`, { email: person.email, role });
  if (res.status !== 201) throw new Error(`share failed: ${res.status} ${JSON.stringify(res.body)}`);
}

export const statusOf = (page: Page): Promise<string | null> => page.getByTestId("status").textContent();

export async function waitForStatus(page: Page, statuses: string[]): Promise<void> {
  await vi.waitFor(async () => expect(statuses).toContain(await statusOf(page)), WAIT);
}

export const editorOf = (page: Page) => page.locator('[data-testid="editor"] .ProseMirror');

/** The text document as the reader sees it, without other people's caret labels. */
export function textOf(page: Page): Promise<string> {
  // Runs in the page; this project's type check has no DOM library, so the element is untyped.
  return editorOf(page).evaluate((root) => {
    const copy = root.cloneNode(true);
    for (const caret of copy.querySelectorAll(".collaboration-carets__caret")) caret.remove();
    return String(copy.textContent ?? "");
  });
}

// Page-side globals, typed here: this project's type check has no DOM library.
interface PageGlobals {
  localStorage: { getItem(key: string): string | null };
  indexedDB: { databases(): Promise<{ name?: string }[]> };
  navigator: { serviceWorker: { ready: Promise<{ active: { state: string } | null }> } };
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

/** The session the page keeps (tokens rotate in place). */
export async function storedSession(page: Page): Promise<{ accessToken: string; refreshToken: string } | null> {
  const raw = await page.evaluate(() => (globalThis as unknown as PageGlobals).localStorage.getItem("palimpsest.session"));
  return raw ? (JSON.parse(raw) as { accessToken: string; refreshToken: string }) : null;
}

/**
 * A window's errors minus what the browser itself logs for failures the app handles: HTTP
 * errors it shows as screens ("Failed to load resource"), requests and sockets refused while
 * offline, and Chromium's note on a WebSocket close handshake crossing the server's.
 */
export function unexpectedErrors(win: UserWindow): string[] {
  return win.errors.filter(
    (error) => !/Failed to load resource|ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_REFUSED|Close received after close|WebSocket connection to .* failed/.test(error),
  );
}
