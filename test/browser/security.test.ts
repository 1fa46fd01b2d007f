// The web app under its own Content-Security-Policy, in a real browser: signing in, writing in a
// text document and on a board raise no violation, while an injected inline script and a picture
// from a host outside the image policy are blocked. The refresh token never reaches script: it is
// an HttpOnly cookie, a reload signs in through it, and a call without the anti-forgery header
// cannot spend it.

import { describe, expect, it, vi } from "vitest";
import type { BrowserContext, Page } from "playwright-core";
import type { AuthResult } from "@palimpsest/contracts";
import {
  editorOf,
  openBoard,
  openText,
  signIn,
  storedSession,
  unexpectedErrors,
  useBrowserSystem,
  waitForStatus,
  WAIT,
  type UserWindow,
} from "./browser-harness.ts";

const env = useBrowserSystem("browser-security", { env: { IMAGE_HOSTS: "https://images.example.test" } });

// Page-side globals, typed here: this project's type check has no DOM library.
interface PageGlobals {
  localStorage: Storage;
  sessionStorage: Storage;
  document: {
    cookie: string;
    body: { appendChild(node: unknown): void };
    createElement(tag: string): { textContent: string };
    addEventListener(type: string, listener: (event: { violatedDirective: string; blockedURI: string }) => void): void;
  };
  cspViolations: string[];
  inlineScriptRan?: boolean;
}
interface Storage {
  readonly length: number;
  key(index: number): string | null;
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** Records every CSP violation the page reports, from before its first script runs. */
async function watchViolations(win: UserWindow): Promise<void> {
  await win.context.addInitScript(() => {
    const g = globalThis as unknown as PageGlobals;
    g.cspViolations = [];
    g.document.addEventListener("securitypolicyviolation", (event) => g.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`));
  });
}

const violations = (page: Page): Promise<string[]> => page.evaluate(() => [...(globalThis as unknown as PageGlobals).cspViolations]);

/** Everything both storages hold, as one string. */
function storageText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const g = globalThis as unknown as PageGlobals;
    const parts: string[] = [];
    for (const storage of [g.localStorage, g.sessionStorage]) {
      for (let i = 0; i < storage.length; i++) {
        const key = storage.key(i) ?? "";
        parts.push(`${key}=${storage.getItem(key) ?? ""}`);
      }
    }
    return parts.join("\n");
  });
}

async function refreshCookie(context: BrowserContext) {
  return (await context.cookies()).find((c) => c.name === "palimpsest_refresh");
}

describe("the web app under a strict policy", () => {
  it("signs in, edits a text document and a board with no policy violation, and keeps the refresh token out of script's reach", async () => {
    const ada = await env.person("Ada Lovelace");
    const text = await ada.api.createDoc("Policy notes", "text");
    const board = await ada.api.createDoc("Policy board", "board");
    const A = await env.open("A");
    await watchViolations(A);
    const a = A.page;
    await signIn(a, ada);

    // ---- The refresh token is an HttpOnly, SameSite=Strict cookie on /api/auth, and nowhere else.
    const cookie = await refreshCookie(A.context);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/api/auth", secure: true });
    expect(cookie!.value.length).toBeGreaterThan(16);
    const stored = await storageText(a);
    expect(stored).not.toContain(cookie!.value);
    expect(stored).not.toMatch(/refreshToken/i);
    expect(await a.evaluate(() => (globalThis as unknown as PageGlobals).document.cookie)).not.toContain(cookie!.value);

    // ---- Writing in a text document and on a board works under the policy.
    await openText(a, text);
    await editorOf(a).click();
    await a.keyboard.type("Nothing inline runs here.");
    await waitForStatus(a, ["saved"]);
    await openBoard(a, board);
    await a.getByRole("button", { name: "Add note" }).click();
    await a.locator("[data-kind='note'] textarea:focus").waitFor();
    await a.keyboard.type("A note under the policy");
    await waitForStatus(a, ["saved"]);

    // ---- With the access token expired, a reload signs in again through the cookie alone.
    const before = await storedSession(a);
    await a.evaluate(() => {
      const g = globalThis as unknown as PageGlobals;
      const session = JSON.parse(g.localStorage.getItem("palimpsest.session") ?? "{}") as Record<string, unknown>;
      g.localStorage.setItem("palimpsest.session", JSON.stringify({ ...session, accessExpiresAt: 0 }));
    });
    await a.reload();
    await a.locator('[data-testid="board"][data-loaded="true"]').waitFor();
    await vi.waitFor(async () => expect((await storedSession(a))?.accessToken).not.toBe(before?.accessToken), WAIT);
    await vi.waitFor(async () => expect(await a.locator("[data-kind='note'] textarea").inputValue()).toBe("A note under the policy"), WAIT);
    expect((await refreshCookie(A.context))?.value).not.toBe(cookie!.value);

    expect(await violations(a)).toEqual([]);
    expect(unexpectedErrors(A)).toEqual([]);

    // ---- The page's own fetch without the anti-forgery header cannot spend the cookie.
    const forged = await a.evaluate(async () => {
      const res = await fetch("/api/auth/refresh", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      return { status: res.status, body: (await res.json()) as { error?: { code?: string } } };
    });
    expect(forged).toMatchObject({ status: 403, body: { error: { code: "CSRF_REJECTED" } } });

    // ---- An injected inline script does not run, and the browser reports it.
    await a.evaluate(() => {
      const g = globalThis as unknown as PageGlobals;
      const script = g.document.createElement("script");
      script.textContent = "globalThis.inlineScriptRan = true;";
      g.document.body.appendChild(script);
    });
    await vi.waitFor(async () => expect((await violations(a)).some((v) => v.startsWith("script-src"))).toBe(true), WAIT);
    expect(await a.evaluate(() => (globalThis as unknown as PageGlobals).inlineScriptRan)).toBeUndefined();
  });

  it("a picture from a host outside the image policy is not loaded, and the card says why", async () => {
    const bob = await env.person("Bob Babbage");
    const board = await bob.api.createDoc("Pictures", "board");
    const B = await env.open("B");
    await watchViolations(B);
    const b = B.page;
    await signIn(b, bob);
    await openBoard(b, board);
    const outside = "https://pictures.elsewhere.test/cat.png";
    await b.getByRole("button", { name: "Add image" }).click();
    await b.getByLabel("Image address").fill(outside);
    await b.getByRole("button", { name: "Add image" }).last().click();
    await b.locator("[data-kind='image']").getByText("Pictures from pictures.elsewhere.test are not allowed on this server.", { exact: false }).waitFor();
    expect(await violations(b)).toEqual([`img-src ${outside}`]);
  });

  it("a session from before the cookie moves into it on the next start, and leaves storage", async () => {
    const cy = await env.person("Cy Older");
    const legacy: AuthResult = cy.auth;
    const C = await env.open("C");
    const c = C.page;
    // An older version of the app kept the whole pair in storage.
    await C.context.addInitScript((session) => {
      const g = globalThis as unknown as PageGlobals;
      if (!g.sessionStorage.getItem("seeded")) {
        g.sessionStorage.setItem("seeded", "1");
        g.localStorage.setItem("palimpsest.session", session);
      }
    }, JSON.stringify({ user: legacy.user, accessToken: legacy.accessToken, refreshToken: legacy.refreshToken, accessExpiresAt: Date.now() + 60_000 }));
    await c.goto("/");
    await c.getByRole("heading", { name: "Documents" }).waitFor();
    await vi.waitFor(async () => expect(await refreshCookie(C.context)).toBeDefined(), WAIT);
    expect(await storageText(c)).not.toContain(legacy.refreshToken);
    expect(await storageText(c)).not.toMatch(/refreshToken/i);
    expect(unexpectedErrors(C)).toEqual([]);
    // The old token was spent in the exchange (presenting it again ends the session, so last).
    const reused = await fetch(`${env.system.gatewayUrl()}/api/auth/refresh`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refreshToken: legacy.refreshToken }),
    });
    expect(reused.status).toBe(401);
  });
});
