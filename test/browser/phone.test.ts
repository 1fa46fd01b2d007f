// The app on a phone (390 x 844, touch): the dashboard, a text document with its header, the
// share dialog, the history and a board all fit the screen's width (nothing scrolls sideways,
// nothing is drawn over anything else), and the main things work by touch.

import { describe, expect, it } from "vitest";
import type { Locator, Page } from "playwright-core";
import { artifact, editorOf, openBoard, openText, signIn, textOf, useBrowserSystem, WAIT } from "./browser-harness.ts";
import { vi } from "vitest";

const env = useBrowserSystem("browser-phone");
const WIDTH = 390;

/** How far the page reaches past the screen's right edge (0: nothing scrolls sideways). */
async function overflow(page: Page): Promise<number> {
  return page.evaluate(() => {
    const { document: d } = globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } };
    return d.documentElement.scrollWidth - d.documentElement.clientWidth;
  });
}

async function box(locator: Locator): Promise<{ x: number; y: number; width: number; height: number }> {
  const b = await locator.boundingBox();
  if (!b) throw new Error("not visible");
  return b;
}

function within(b: { x: number; width: number }): void {
  expect(b.x).toBeGreaterThanOrEqual(0);
  expect(b.x + b.width).toBeLessThanOrEqual(WIDTH + 0.5);
}

function apart(a: { x: number; y: number; width: number; height: number }, b: { x: number; y: number; width: number; height: number }): boolean {
  return a.x + a.width <= b.x + 0.5 || b.x + b.width <= a.x + 0.5 || a.y + a.height <= b.y + 0.5 || b.y + b.height <= a.y + 0.5;
}

describe("on a phone", () => {
  it("the dashboard, a document's header, the share dialog and the history fit the screen and work by touch", async () => {
    const owner = await env.person("Pia Phone");
    const friend = await env.person("Fritz Friend");
    const doc = await owner.api.createDoc("Notes on a rather long title for a small screen");
    const P = await env.open("P", { phone: true });
    const p = P.page;
    await signIn(p, owner);
    await p.getByRole("heading", { name: "Documents" }).waitFor();
    await p.screenshot({ path: artifact("phone-dashboard.png") });
    expect(await overflow(p)).toBe(0);

    await openText(p, doc);
    await p.screenshot({ path: artifact("phone-document.png") });
    expect(await overflow(p)).toBe(0);
    // The title is on screen and nothing in the header is drawn over anything else.
    const title = await box(p.getByTestId("doc-title"));
    within(title);
    expect(title.width).toBeGreaterThan(80);
    const header = [p.getByTestId("doc-title"), p.getByTestId("presence"), p.getByTestId("status"), p.getByRole("button", { name: "Share" }), p.getByRole("button", { name: "History", exact: true }), p.getByRole("button", { name: /Attachments/ })];
    const boxes = await Promise.all(header.map(box));
    for (const b of boxes) within(b);
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) expect(apart(boxes[i]!, boxes[j]!), `header items ${i} and ${j} overlap`).toBe(true);

    // Typing by touch.
    await editorOf(p).tap();
    await p.keyboard.type("Written on a phone.");
    await vi.waitFor(async () => expect(await textOf(p)).toBe("Written on a phone."), WAIT);

    // Share: the dialog and its email field fit, and sharing works.
    await p.getByRole("button", { name: "Share" }).tap();
    const dialog = p.getByTestId("share-dialog");
    await dialog.waitFor();
    await p.screenshot({ path: artifact("phone-share.png") });
    within(await box(dialog));
    const email = dialog.getByLabel("Email");
    expect((await box(email)).width).toBeGreaterThan(200);
    await email.fill(friend.email);
    await dialog.getByRole("button", { name: /^(Share|Invite)$/ }).tap();
    await dialog.locator(`[data-user-email="${friend.email}"]`).waitFor();
    expect(await overflow(p)).toBe(0);
    await p.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });

    // History: its panel is on screen, with the versions and the way back.
    await p.getByRole("button", { name: "History", exact: true }).tap();
    const panel = p.getByTestId("history-panel");
    await panel.waitFor();
    await panel.getByTestId("history-sessions").locator("li").first().waitFor();
    await p.screenshot({ path: artifact("phone-history.png") });
    expect(await overflow(p)).toBe(0);
    within(await box(p.getByRole("slider")));
    within(await box(panel.getByRole("button", { name: "Close the history" })));
    await panel.getByRole("button", { name: "Close the history" }).tap();
    await panel.waitFor({ state: "detached" });
    expect(P.errors).toEqual([]);
  });

  it("a board fits the screen's width, with its toolbar", async () => {
    const owner = await env.person("Bo Board");
    const doc = await owner.api.createDoc("Phone board", "board");
    const P = await env.open("P", { phone: true });
    const p = P.page;
    await signIn(p, owner);
    await openBoard(p, doc);
    await p.screenshot({ path: artifact("phone-board.png") });
    expect(await overflow(p)).toBe(0);
    expect(P.errors).toEqual([]);
  });
});
