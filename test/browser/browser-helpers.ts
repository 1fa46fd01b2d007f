// What the browser tests of sharing and history have in common: Chromium started once per file
// (after the web build, before the system starts its gateway), one context per person, and
// ways to read the editor the way a reader sees it.

import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, vi } from "vitest";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { launchChromium } from "./chromium.ts";
import { ensureWebBuilt, repoRoot } from "../../scripts/web-build.ts";

export const artifacts = path.join(repoRoot, "test-artifacts");
/** The machine is shared by several workers: give the browser room. */
export const WAIT = { timeout: 30_000, interval: 100 };
/** The password TestApi.newUser registers with. */
export const TEST_PASSWORD = "correct horse battery staple";

export interface CollabSocket {
  url: string;
  closed: boolean;
  /** Document updates this page sent (y-websocket sync message, update step). */
  updatesSent: number;
}

export interface UserWindow {
  page: Page;
  context: BrowserContext;
  /** Uncaught errors of the page. */
  pageErrors: string[];
  /** Console errors of the page. */
  consoleErrors: string[];
  sockets: CollabSocket[];
}

export interface BrowserUse {
  /** A new browser context (its own storage, so its own session) with one page. */
  openWindow(label: string, baseUrl: string): Promise<UserWindow>;
}

/**
 * Builds the web app and starts Chromium for this file. Call it before useSystem(), so the
 * gateway finds the fresh build when it starts.
 */
export function useBrowser(): BrowserUse {
  let browser: Browser | undefined;
  /** Why Chromium did not start (say, it is not installed): every test fails with it, none is skipped. */
  let browserProblem: unknown;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    ensureWebBuilt();
    fs.mkdirSync(artifacts, { recursive: true });
    try {
      browser = await launchChromium();
    } catch (err) {
      browserProblem = err;
    }
  });

  afterAll(async () => {
    for (const context of contexts.splice(0)) await context.close().catch(() => {});
    await browser?.close();
  });

  return {
    async openWindow(label, baseUrl) {
      if (browserProblem !== undefined) throw browserProblem;
      if (!browser) throw new Error("the browser did not start");
      const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 820 } });
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(WAIT.timeout);
      const win: UserWindow = { page, context, pageErrors: [], consoleErrors: [], sockets: [] };
      page.on("pageerror", (err) => win.pageErrors.push(`[${label}] ${err.message}`));
      page.on("console", (msg) => {
        if (msg.type() === "error") win.consoleErrors.push(`[${label}] ${msg.text()}`);
      });
      page.on("websocket", (ws) => {
        if (!new URL(ws.url()).pathname.startsWith("/collab/")) return;
        const socket: CollabSocket = { url: ws.url(), closed: false, updatesSent: 0 };
        win.sockets.push(socket);
        ws.on("close", () => {
          socket.closed = true;
        });
        // y-websocket: [0 = sync, 2 = update, ...]; step 1 and 2 of the handshake are 0 and 1.
        ws.on("framesent", ({ payload }) => {
          if (typeof payload !== "string" && payload[0] === 0 && payload[1] === 2) socket.updatesSent++;
        });
      });
      return win;
    },
  };
}

/** Opens `docPath`, signs in on the sign-in screen it shows, and waits for the document. */
export async function signInAt(page: Page, docPath: string, email: string, password = TEST_PASSWORD): Promise<void> {
  await page.goto(docPath);
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL((url) => url.pathname === docPath);
  await editorOf(page).waitFor();
}

export const editorOf = (page: Page): Locator => page.locator('[data-testid="editor"] .ProseMirror');
export const statusOf = (page: Page): Promise<string | null> => page.getByTestId("status").textContent();

/** Text of a ProseMirror view as the reader sees it, without other people's caret labels. */
export function visibleText(root: Locator): Promise<string> {
  // Runs in the page; this project's type check has no DOM library, so the element is untyped.
  return root.evaluate((element) => {
    const copy = element.cloneNode(true);
    for (const caret of copy.querySelectorAll(".collaboration-carets__caret")) caret.remove();
    return String(copy.textContent ?? "");
  });
}

export const textOf = (page: Page): Promise<string> => visibleText(editorOf(page));

/** Every edit made in this window is acknowledged by the server. */
export async function waitForSaved(page: Page): Promise<void> {
  await vi.waitFor(async () => expect(await statusOf(page)).toBe("saved"), WAIT);
}

/** Connected and up to date (a reader, who has nothing to save, is "online"). */
export async function waitForUpToDate(page: Page): Promise<void> {
  await vi.waitFor(async () => expect(["online", "saved"]).toContain(await statusOf(page)), WAIT);
}

/**
 * Marks the page so a test can tell it was never reloaded: a reload or navigation that
 * reloads the document clears the mark.
 */
export async function markPage(page: Page): Promise<void> {
  await page.evaluate(() => {
    (globalThis as Record<string, unknown>)["palimpsestTestMark"] = true;
  });
}

export async function stillMarked(page: Page): Promise<boolean> {
  return page.evaluate(() => (globalThis as Record<string, unknown>)["palimpsestTestMark"] === true);
}

export function screenshotPath(name: string): string {
  return path.join(artifacts, name);
}
