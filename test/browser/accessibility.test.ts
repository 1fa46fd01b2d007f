// Every screen checked with axe-core (WCAG 2.1 A and AA) in a real browser: sign-in, the
// dashboard, a text document with its share dialog, history and attachments, a board, and the
// account page, on a desktop and on a phone. No serious or critical violation is allowed.

import { describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { accessibilityViolations, artifact, openBoard, openText, share, signIn, useBrowserSystem, type AxeViolation } from "./browser-harness.ts";

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
});
