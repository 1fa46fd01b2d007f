// Every screen checked with axe-core (WCAG 2.1 A and AA) in a real browser: sign-in, the
// dashboard, a text document with its share dialog, history and attachments, a board, and the
// account page, on a desktop and on a phone. No serious or critical violation is allowed. And
// the main flows by keyboard alone, with the focus visible at every stop.

import { describe, expect, it } from "vitest";
import type { Locator, Page } from "playwright-core";
import { vi } from "vitest";
import { PASSWORD, accessibilityViolations, artifact, editorOf, openBoard, openText, share, signIn, textOf, useBrowserSystem, WAIT, type AxeViolation } from "./browser-harness.ts";

const env = useBrowserSystem("browser-accessibility");

async function check(page: Page, screen: string, found: Record<string, AxeViolation[]>): Promise<void> {
  const violations = await accessibilityViolations(page);
  if (violations.length > 0) found[screen] = violations;
}

describe("accessibility", () => {
  for (const phone of [false, true]) {
    it(`every screen has no serious or critical axe-core violation${phone ? ", on a phone" : ""}`, async () => {
      const owner = await env.person(phone ? "Amy Phone" : "Amy Access");
      const friend = await env.person(phone ? "Ben Phone" : "Ben Access");
      const doc = await owner.api.createDoc("Checked");
      await share(owner, doc, friend, "editor");
      const board = await owner.api.createDoc("Checked board", "board");
      const W = await env.open("A", { phone });
      const p = W.page;
      const found: Record<string, AxeViolation[]> = {};

      await p.goto("/");
      await p.getByRole("heading", { name: "Sign in" }).waitFor();
      await check(p, "sign-in", found);
      await p.screenshot({ path: artifact(`sign-in${phone ? "-phone" : ""}.png`) });
      await p.getByRole("button", { name: "Create an account" }).click();
      await check(p, "sign-up", found);

      await signIn(p, owner);
      await p.getByRole("heading", { name: "Documents" }).waitFor();
      await check(p, "dashboard", found);

      await openText(p, doc);
      await check(p, "text document", found);
      await p.getByRole("button", { name: "Share" }).click();
      await p.getByTestId("share-dialog").locator(`[data-user-email="${friend.email}"]`).waitFor();
      await check(p, "share dialog", found);
      await p.keyboard.press("Escape");
      await p.getByRole("button", { name: /Attachments/ }).click();
      await p.getByTestId("attachments-panel").waitFor();
      await check(p, "attachments", found);
      await p.keyboard.press("Escape");
      await p.getByRole("button", { name: "History", exact: true }).click();
      await p.getByTestId("history-panel").waitFor();
      await check(p, "history", found);
      await p.keyboard.press("Escape");

      await openBoard(p, board);
      await check(p, "board", found);

      await p.goto("/account");
      await p.getByRole("heading", { level: 1 }).first().waitFor();
      await check(p, "account", found);
      await p.screenshot({ path: artifact(`accessibility-account${phone ? "-phone" : ""}.png`) });

      expect(found).toEqual({});
    });
  }

  it("by keyboard alone: sign in, create a document, write, share it and open its history, the focus always visible", async () => {
    const me = await env.person("Kim Keys");
    const friend = await env.person("Lee Keys");
    const W = await env.open("K");
    const p = W.page;

    /** Presses Tab until `target` has the focus (at most 60 times), checking each stop shows where it is. */
    const tabTo = async (target: Locator): Promise<void> => {
      for (let i = 0; i < 60; i++) {
        await p.keyboard.press("Tab");
        const ring = await p.evaluate(() => {
          const { document: d, getComputedStyle: style } = globalThis as unknown as {
            document: { activeElement: { tagName: string } | null };
            getComputedStyle(e: unknown): { outlineStyle: string; outlineWidth: string };
          };
          const e = d.activeElement;
          if (!e || e.tagName === "BODY") return null;
          const s = style(e);
          return { tag: e.tagName, outline: s.outlineStyle === "none" ? 0 : parseFloat(s.outlineWidth) };
        });
        // The editor shows its caret instead of a ring.
        if (ring && ring.tag !== "DIV") expect(ring.outline, `focus ring on a ${ring.tag}`).toBeGreaterThanOrEqual(2);
        if (await target.evaluate((el) => el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement)) return;
      }
      throw new Error("the keyboard never reached it");
    };

    await p.goto("/");
    await tabTo(p.getByLabel("Email"));
    await p.keyboard.type(me.email);
    await tabTo(p.getByLabel("Password"));
    await p.keyboard.type(PASSWORD);
    await p.keyboard.press("Enter");
    await p.getByRole("heading", { name: "Documents" }).waitFor();

    await tabTo(p.getByPlaceholder("Title of a new document"));
    await p.keyboard.type("Typed by keys");
    await p.keyboard.press("Enter");
    await p.waitForURL(/\/d\/[^/]+$/);
    await p.locator('[data-testid="editor"][data-loaded="true"]').waitFor();

    await tabTo(editorOf(p));
    await p.keyboard.type("Written without a mouse.");
    await vi.waitFor(async () => expect(await textOf(p)).toBe("Written without a mouse."), WAIT);
    // Out of the text, and on to Share.
    await p.keyboard.press("Escape");
    await tabTo(p.getByRole("button", { name: "Share" }));
    await p.keyboard.press("Enter");
    const dialog = p.getByTestId("share-dialog");
    await dialog.waitFor();
    await tabTo(dialog.getByLabel("Email"));
    await p.keyboard.type(friend.email);
    await p.keyboard.press("Enter");
    await dialog.locator(`[data-user-email="${friend.email}"]`).waitFor();
    await p.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });

    await tabTo(p.getByRole("button", { name: "History", exact: true }));
    await p.keyboard.press("Enter");
    const panel = p.getByTestId("history-panel");
    await panel.getByTestId("history-sessions").locator("li").first().waitFor();
    await p.keyboard.press("Escape");
    await panel.waitFor({ state: "detached" });
    await p.screenshot({ path: artifact("accessibility-keyboard.png") });
    expect(W.errors).toEqual([]);
  });
});
