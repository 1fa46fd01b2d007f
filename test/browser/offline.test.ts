// Offline work in a real browser: a window loses the network while someone else keeps
// editing, both write, and when it comes back both show the merged text; a page reloaded
// without a network still opens the document with the edits made offline (from IndexedDB,
// started by the service worker); signing out removes the copies from the device. Also
// measures the time to a first editable document.

import { describe, expect, it, vi } from "vitest";
import * as Y from "yjs";
import sharp from "sharp";
import { connectClient } from "../collab-client.ts";
import {
  artifact,
  databasesOf,
  editorOf,
  openText,
  signIn,
  statusOf,
  textOf,
  unexpectedErrors,
  useBrowserSystem,
  waitForOfflineApp,
  waitForStatus,
  WAIT,
  twoEditors,
} from "./browser-harness.ts";
import type { DocView } from "@palimpsest/contracts";

const env = useBrowserSystem("browser-offline");

/** What the server has stored, read by a separate, unmodified Yjs client. */
async function storedText(doc: DocView, token: string): Promise<string> {
  const client = connectClient(env.system.gatewayUrl(), doc.id, token);
  try {
    await vi.waitFor(() => expect(client.provider.synced).toBe(true), WAIT);
    const fragment = client.doc.getXmlFragment("default");
    return fragment
      .toArray()
      .map((node) => (node instanceof Y.XmlElement ? node.toArray().map((child) => (child instanceof Y.XmlText ? child.toString() : "")).join("") : ""))
      .join("\n");
  } finally {
    client.destroy();
  }
}

describe("offline work in a real browser", () => {
  it("a window goes offline, both people write, and after it reconnects both show the merged text", async () => {
    const { owner: ada, doc, A, B } = await twoEditors(env, ["Ada Offline", "Bob Online"], "Field notes");
    const a = A.page;
    const b = B.page;

    await editorOf(a).click();
    await a.keyboard.type("Shared start.");
    await vi.waitFor(async () => expect(await textOf(b)).toBe("Shared start."), WAIT);
    await waitForStatus(a, ["saved"]);

    // ---- A loses the network. The page notices at once and stops using its socket.
    const socketsBefore = A.sockets.length;
    const framesSent = (): number => A.sockets.reduce((sum, socket) => sum + socket.sent, 0);
    await A.context.setOffline(true);
    await waitForStatus(a, ["offline"]);
    await a.getByTestId("offline-banner").waitFor();
    const sentBeforeWriting = framesSent();

    // ---- Both write: A at the end (offline), B at the start (online).
    await editorOf(a).click();
    await a.keyboard.press("End");
    await a.keyboard.type(" A wrote this offline.");
    await editorOf(b).click();
    await b.keyboard.press("Home");
    await b.keyboard.type("B stayed online. ");
    await waitForStatus(b, ["saved"]);
    // Nothing of A's went out meanwhile: its edits wait on the device, not in a dead socket.
    expect(framesSent()).toBe(sentBeforeWriting);
    expect(await textOf(a)).toBe("Shared start. A wrote this offline.");
    expect(await textOf(b)).toBe("B stayed online. Shared start.");
    expect(await statusOf(a)).toBe("offline");

    // ---- A comes back: a new connection, and both windows converge on the same text.
    await A.context.setOffline(false);
    const merged = "B stayed online. Shared start. A wrote this offline.";
    await vi.waitFor(async () => {
      expect(await textOf(a)).toBe(merged);
      expect(await textOf(b)).toBe(merged);
    }, WAIT);
    expect(A.sockets.length).toBeGreaterThan(socketsBefore);
    // "saved" only once the server has acknowledged A's offline edit.
    await waitForStatus(a, ["saved"]);
    expect(await storedText(doc, ada.auth.accessToken)).toBe(merged);
    for (const win of [A, B]) expect(unexpectedErrors(win)).toEqual([]);
  });

  it("reloading without a network shows the edits made offline, which reach the server later; sign-out removes the copies", async () => {
    const ada = await env.person("Ada Traveller");
    const doc = await ada.api.createDoc("Travel diary");
    const board = await ada.api.createDoc("Trip board", "board");

    const A = await env.open("A");
    const a = A.page;
    await signIn(a, ada);
    await waitForOfflineApp(a);
    await openText(a, doc);
    await editorOf(a).click();
    await a.keyboard.type("Before the trip.");
    await waitForStatus(a, ["saved"]);

    // ---- Offline: write more, then reload the page.
    await A.context.setOffline(true);
    await waitForStatus(a, ["offline"]);
    await editorOf(a).click();
    await a.keyboard.press("End");
    await a.keyboard.type(" Written on the train.");
    // The page says when the device copy holds it all (a person takes longer than that to reload).
    await a.locator("[data-testid='offline-banner'][data-saved-on-device='true']").waitFor();
    await a.reload();
    await a.getByTestId("doc-title").filter({ hasText: "Travel diary" }).waitFor();
    await vi.waitFor(async () => expect(await textOf(a)).toBe("Before the trip. Written on the train."), WAIT);
    expect(await statusOf(a)).toBe("offline");
    // Still editable offline, after the reload too.
    expect(await editorOf(a).getAttribute("contenteditable")).toBe("true");
    await editorOf(a).click();
    await a.keyboard.press("End");
    await a.keyboard.type(" Still offline.");
    await a.locator("[data-testid='offline-banner'][data-saved-on-device='true']").waitFor();

    // ---- The dashboard cannot reach the server, but lists what is on this device.
    await a.goto("/");
    await a.getByTestId("dashboard-unreachable").waitFor();
    const local = a.getByTestId("local-copies");
    await local.getByText("Travel diary").waitFor();
    await local.locator(`[data-doc-id="${doc.id}"]`).getByText("Not synced").waitFor();
    expect(await a.getByRole("button", { name: "Try again" }).count()).toBe(1);
    // A document never opened here cannot open offline, and says so.
    await a.goto(`/b/${board.id}`);
    await a.getByRole("heading", { name: "Can't reach the server" }).waitFor();

    // ---- Back online: the document opens, sends its offline edits, and says saved.
    await A.context.setOffline(false);
    await openText(a, doc);
    const expected = "Before the trip. Written on the train. Still offline.";
    await vi.waitFor(async () => expect(await textOf(a)).toBe(expected), WAIT);
    await waitForStatus(a, ["saved"]);
    expect(await storedText(doc, ada.auth.accessToken)).toBe(expected);

    // ---- A board keeps its cards offline too.
    await a.goto(`/b/${board.id}`);
    await a.locator('[data-testid="board"][data-loaded="true"]').waitFor();
    await A.context.setOffline(true);
    await waitForStatus(a, ["offline"]);
    await a.getByRole("button", { name: "Add note" }).click();
    await a.locator("[data-kind='note'] textarea:focus").waitFor();
    await a.keyboard.type("Packed offline");
    await a.locator("[data-testid='offline-banner'][data-saved-on-device='true']").waitFor();
    await a.reload();
    await vi.waitFor(async () => expect(await a.locator("[data-kind='note'] textarea").inputValue()).toBe("Packed offline"), WAIT);
    await A.context.setOffline(false);
    await waitForStatus(a, ["saved"]);

    // ---- Signing out removes this person's copies from the device.
    const prefix = `palimpsest/${ada.auth.user.id}/`;
    expect((await databasesOf(a)).filter((name) => name.startsWith(prefix)).sort()).toEqual([`${prefix}${board.id}`, `${prefix}${doc.id}`].sort());
    await a.getByRole("button", { name: "Sign out" }).click();
    await a.getByRole("heading", { name: "Sign in" }).waitFor();
    await vi.waitFor(async () => expect((await databasesOf(a)).filter((name) => name.startsWith(prefix))).toEqual([]), WAIT);
    expect(unexpectedErrors(A)).toEqual([]);
  });

  it("the history opened without a network says once that it needs one, and loads by itself when the network returns", async () => {
    const { A } = await twoEditors(env, ["Ada History", "Bob History"], "Offline history");
    const a = A.page;
    await editorOf(a).click();
    await a.keyboard.type("Kept.");
    await waitForStatus(a, ["saved"]);
    await A.context.setOffline(true);
    await waitForStatus(a, ["offline"]);
    await a.getByRole("button", { name: "History", exact: true }).click();
    const panel = a.getByTestId("history-panel");
    await panel.waitFor();
    await vi.waitFor(async () => expect(await panel.getByRole("alert").count()).toBeGreaterThan(0), WAIT);
    const text = (await panel.innerText()).replace(/\s+/g, " ");
    process.stdout.write(`offline history: ${text}\n`);
    await a.screenshot({ path: artifact("offline-history.png") });
    // One plain statement of why, not an empty document's words ("No versions yet") or each list's own error.
    expect(text).not.toContain("No versions yet");
    expect(text).not.toContain("Nothing has been written");
    expect(await panel.getByText(/you're offline/i).count()).toBe(1);
    expect(await panel.getByRole("alert").count()).toBe(1);

    expect(await panel.getByRole("button", { name: "Try again" }).count()).toBe(1);

    // Back online, the history loads by itself.
    await A.context.setOffline(false);
    await vi.waitFor(async () => expect(await panel.getByTestId("history-sessions").locator("li").count()).toBeGreaterThan(0), WAIT);
    expect(await panel.getByText(/you're offline/i).count()).toBe(0);
  });

  it("the app can be installed: its manifest names it and its icons, and Chromium finds nothing missing", async () => {
    const owner = await env.person("Ida Install");
    const W = await env.open("I");
    const page = W.page;
    await signIn(page, owner);
    await page.getByRole("heading", { name: "Documents" }).waitFor();
    await waitForOfflineApp(page);

    expect(await page.locator('link[rel="manifest"]').getAttribute("href")).toBe("/manifest.webmanifest");
    const res = await page.request.get("/manifest.webmanifest");
    expect(res.status()).toBe(200);
    expect(res.headers()["content-type"]).toMatch(/^application\/manifest\+json/);
    const manifest = (await res.json()) as { name: string; start_url: string; display: string; icons: { src: string; sizes: string; type: string; purpose: string }[] };
    expect(manifest).toMatchObject({ name: "Palimpsest", start_url: "/", display: "standalone" });
    expect(manifest.icons.map((i) => `${i.sizes} ${i.purpose}`)).toEqual(["192x192 any", "512x512 any", "512x512 maskable"]);
    for (const icon of [...manifest.icons, { src: "/icons/apple-touch-icon.png", sizes: "180x180" }]) {
      const file = await page.request.get(icon.src);
      expect(file.status(), icon.src).toBe(200);
      expect(file.headers()["content-type"]).toBe("image/png");
      const { width, height } = await sharp(await file.body()).metadata();
      expect(`${width}x${height}`, icon.src).toBe(icon.sizes);
    }

    // What Chrome itself checks before it offers to install (manifest, icons, service worker).
    // The harness's contexts are incognito profiles, where Chrome never offers it: that one is the profile's, not the app's.
    const cdp = await W.context.newCDPSession(page);
    const { installabilityErrors } = (await cdp.send("Page.getInstallabilityErrors")) as { installabilityErrors: { errorId: string }[] };
    expect(installabilityErrors.filter((e) => e.errorId !== "in-incognito")).toEqual([]);
    expect(W.errors).toEqual([]);
  });

  it("measures the time to a first editable document", async () => {
    const ada = await env.person("Ada Timer");
    const doc = await ada.api.createDoc("Stopwatch");
    const A = await env.open("A");
    const a = A.page;
    await signIn(a, ada);

    /** From navigation to an editor that takes keystrokes and has the server's content. */
    const timeToEditable = async (go: () => Promise<unknown>): Promise<number> => {
      const started = performance.now();
      await go();
      await a.locator('[data-testid="editor"][data-loaded="true"] .ProseMirror[contenteditable="true"]').waitFor();
      return Math.round(performance.now() - started);
    };
    const cold = await timeToEditable(() => a.goto(`/d/${doc.id}`));
    await waitForOfflineApp(a);
    const warm = await timeToEditable(() => a.reload());
    // The figure for the issue note; vitest shows a test's output with its result.
    process.stdout.write(`time to first editable document: ${cold} ms on first open, ${warm} ms on reload (service worker and local copy warm)\n`);
    expect(cold).toBeGreaterThan(0);
    expect(warm).toBeLessThan(WAIT.timeout);
    expect(unexpectedErrors(A)).toEqual([]);
  });
});
