// Comments in a real browser against the whole running system: a commenter selects words in
// the read-only text and asks about them; the owner sees the thread arrive live, with its words
// highlighted, replies and resolves it; the words follow the text as it changes, and a thread
// whose words were deleted says so. A viewer reads the threads and cannot add to them.

import { describe, expect, it, vi } from "vitest";
import type { Page } from "playwright-core";
import { accessibilityViolations, artifact, editorOf, openBoard, openText, share, signIn, textOf, useBrowserSystem, WAIT } from "./browser-harness.ts";

const env = useBrowserSystem("browser-comments");

const sidebar = (page: Page) => page.getByTestId("comments-sidebar");
const threads = (page: Page) => sidebar(page).getByTestId("comment-thread");
/** The highlighted words (a peer's caret inside them splits the highlight in two). */
const highlighted = async (page: Page) => (await editorOf(page).locator(".comment-highlight").allTextContents()).join("");

/** Selects `words` in the editor, as a double-click or a drag would, through the DOM selection. */
async function select(page: Page, words: string): Promise<void> {
  // Runs in the page, which has a DOM; this file is compiled without one.
  const found = await page.evaluate(`(() => {
    const target = ${JSON.stringify(words)};
    const root = document.querySelector('[data-testid="editor"] .ProseMirror');
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const at = node.textContent.indexOf(target);
      if (at < 0) continue;
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + target.length);
      root.focus();
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      return true;
    }
    return false;
  })()`);
  if (!found) throw new Error(`"${words}" is not in the text`);
  // ProseMirror reads the DOM selection on selectionchange.
  await page.waitForTimeout(0);
}

describe("comments in the browser", () => {
  it("a commenter asks about some words, the owner sees it live, answers and resolves; the words follow the text, and deleted words leave the thread detached", { timeout: 180_000 }, async () => {
    const owner = await env.person("Olga Owner");
    const commenter = await env.person("Carl Commenter");
    const viewer = await env.person("Vera Viewer");
    const doc = await owner.api.createDoc("Launch notes");
    await share(owner, doc, commenter, "commenter");
    await share(owner, doc, viewer, "viewer");
    const [O, C, V] = [await env.open("owner"), await env.open("commenter"), await env.open("viewer")];
    for (const [w, who] of [[O, owner], [C, commenter], [V, viewer]] as const) {
      await signIn(w.page, who);
      await openText(w.page, doc);
    }
    const [o, c, v] = [O.page, C.page, V.page];

    await editorOf(o).click();
    await o.keyboard.type("We launch on Friday after the review.");
    await vi.waitFor(async () => expect(await textOf(c)).toBe("We launch on Friday after the review."), WAIT);

    // The commenter cannot type, but can select words and comment on them.
    expect(await editorOf(c).getAttribute("contenteditable")).toBe("false");
    await c.getByTestId("comments-button").click();
    await select(c, "Friday");
    await sidebar(c).getByRole("button", { name: "Comment on the selection" }).click();
    const draft = c.getByTestId("new-comment");
    expect(await draft.locator(".comment-quote").textContent()).toBe("Friday");
    await draft.getByLabel("Your comment").fill("Which Friday? The 12th?");
    await draft.getByRole("button", { name: "Comment" }).click();
    await vi.waitFor(async () => expect(await threads(c).count()).toBe(1), WAIT);
    expect(await threads(c).first().getByTestId("comment-quote").textContent()).toBe("Friday");
    await vi.waitFor(async () => expect(await highlighted(c)).toBe("Friday"), WAIT);

    // The owner's page hears of it without a reload: the count, the highlight, the thread.
    await vi.waitFor(async () => expect(await o.getByTestId("comments-button").textContent()).toContain("1"), WAIT);
    await vi.waitFor(async () => expect(await highlighted(o)).toBe("Friday"), WAIT);
    await editorOf(o).locator(".comment-highlight").first().click();
    await vi.waitFor(async () => expect(await threads(o).count()).toBe(1), WAIT);
    expect(await threads(o).first().getAttribute("class")).toContain("comment-thread-active");
    expect(await threads(o).first().getByTestId("comment").first().textContent()).toContain("Which Friday? The 12th?");

    // Typing inside the words moves the highlight with them.
    await editorOf(o).click();
    await select(o, "day");
    await o.keyboard.press("ArrowLeft");
    await o.keyboard.type("the 12th, ");
    await vi.waitFor(async () => expect(await highlighted(c)).toBe("Frithe 12th, day"), WAIT);

    // A reply and a resolve, seen by the commenter live.
    const thread = threads(o).first();
    await thread.getByLabel("Reply").fill("Yes, the 12th.");
    await thread.getByRole("button", { name: "Reply" }).click();
    await vi.waitFor(async () => expect(await threads(c).first().getByTestId("comment").count()).toBe(2), WAIT);
    await o.screenshot({ path: artifact("comments-thread.png") });
    await thread.getByRole("button", { name: "Resolve" }).click();
    await vi.waitFor(async () => expect(await threads(c).count()).toBe(0), WAIT);
    expect(await highlighted(c)).toBe("");
    await sidebar(c).getByRole("button", { name: /Resolved/ }).click();
    await vi.waitFor(async () => expect(await threads(c).count()).toBe(1), WAIT);
    // Reopened from the resolved list, and the words are highlighted again.
    await threads(c).first().getByRole("button", { name: "Reopen" }).click();
    await vi.waitFor(async () => expect(await highlighted(o)).toBe("Frithe 12th, day"), WAIT);
    await sidebar(c).getByRole("button", { name: /Open/ }).click();

    // The viewer reads the thread and cannot add to it.
    await v.getByTestId("comments-button").click();
    await vi.waitFor(async () => expect(await threads(v).count()).toBe(1), WAIT);
    expect(await sidebar(v).getByRole("button", { name: "Comment on the selection" }).count()).toBe(0);
    expect(await threads(v).first().getByLabel("Reply").count()).toBe(0);
    expect(await accessibilityViolations(v)).toEqual([]);

    // The words go: the thread stays, detached.
    await select(o, "Frithe 12th, day");
    await o.keyboard.press("Backspace");
    await vi.waitFor(async () => expect(await threads(c).first().getByTestId("comment-detached").count()).toBe(1), WAIT);
    await c.screenshot({ path: artifact("comments-detached.png") });
    for (const w of [O, C, V]) expect(w.errors).toEqual([]);
  });

  it("on a board, a commenter comments on a card; the card shows it, the owner answers, and a deleted card leaves the thread detached", { timeout: 180_000 }, async () => {
    const owner = await env.person("Bea Board");
    const commenter = await env.person("Cy Cards");
    const doc = await owner.api.createDoc("Sprint board", "board");
    await share(owner, doc, commenter, "commenter");
    const [O, C] = [await env.open("owner"), await env.open("commenter")];
    await signIn(O.page, owner);
    await signIn(C.page, commenter);
    await openBoard(O.page, doc);
    await openBoard(C.page, doc);
    const [o, c] = [O.page, C.page];

    await o.getByRole("button", { name: "Add note" }).click();
    await o.locator("[data-card-id] textarea:focus").waitFor();
    await o.keyboard.type("Ship the beta");
    const card = (page: Page) => page.locator("[data-card-id]").first();
    await vi.waitFor(async () => expect(await card(c).locator("textarea").inputValue()).toBe("Ship the beta"), WAIT);

    // The commenter selects the card (its grip) and comments on it.
    await c.getByTestId("comments-button").click();
    await card(c).getByTestId("card-grip").click();
    await sidebar(c).getByRole("button", { name: "Comment on the selected card" }).click();
    const draft = c.getByTestId("new-comment");
    expect(await draft.locator(".comment-quote").textContent()).toBe("Ship the beta");
    await draft.getByLabel("Your comment").fill("By when?");
    await draft.getByRole("button", { name: "Comment" }).click();
    await vi.waitFor(async () => expect(await threads(c).count()).toBe(1), WAIT);

    // The owner's card shows one open comment; pressing it shows the thread.
    await vi.waitFor(async () => expect(await card(o).getByTestId("card-comments").textContent()).toContain("1"), WAIT);
    await card(o).getByTestId("card-comments").click();
    await vi.waitFor(async () => expect(await threads(o).count()).toBe(1), WAIT);
    expect(await threads(o).first().getAttribute("class")).toContain("comment-thread-active");
    expect(await threads(o).first().getByTestId("comment-quote").textContent()).toBe("Ship the beta");
    await threads(o).first().getByLabel("Reply").fill("Friday.");
    await threads(o).first().getByRole("button", { name: "Reply" }).click();
    await vi.waitFor(async () => expect(await threads(c).first().getByTestId("comment").count()).toBe(2), WAIT);
    await o.screenshot({ path: artifact("comments-board.png") });

    // The card goes; the thread stays and says so.
    await card(o).getByRole("button", { name: "Delete card" }).click();
    await vi.waitFor(async () => expect(await threads(c).first().getByTestId("comment-detached").textContent()).toBe("The card this comment was on has been deleted."), WAIT);
    for (const w of [O, C]) expect(w.errors).toEqual([]);
  });

  it("the history's Activity says who did what, grouped by day, and shows the document as it was after an entry", { timeout: 120_000 }, async () => {
    const owner = await env.person("Ivy Activity");
    const friend = await env.person("Finn Friend");
    const doc = await owner.api.createDoc("Diary");
    const W = await env.open("owner");
    const p = W.page;
    await signIn(p, owner);
    await openText(p, doc);
    await editorOf(p).click();
    await p.keyboard.type("First words.");
    await vi.waitFor(async () => expect((await owner.api.get<{ items: unknown[] }>(`/api/docs/${doc.id}/history`)).body.items.length).toBeGreaterThan(0), WAIT);
    await share(owner, doc, friend, "commenter");
    expect((await friend.api.post(`/api/docs/${doc.id}/comments`, { body: "Nice start" })).status).toBe(201);
    expect((await owner.api.call("PATCH", `/api/docs/${doc.id}`, { title: "My diary" })).status).toBe(200);

    await p.getByRole("button", { name: "History", exact: true }).click();
    await p.getByTestId("history-panel").waitFor();
    await p.getByRole("button", { name: "Activity", exact: true }).click();
    const lines = p.getByTestId("activity-item");
    await vi.waitFor(async () => {
      const text = (await lines.allTextContents()).join("\n");
      expect(text).toContain("Ivy Activity renamed it “My diary”");
      expect(text).toContain("Finn Friend commented");
      expect(text).toContain("Ivy Activity shared it with Finn Friend as commenter");
      expect(text).toMatch(/Ivy Activity edited \(\d+ changes?\)/);
      expect(text).toContain("Ivy Activity created the document");
    }, WAIT);
    expect(await p.getByTestId("activity").getByRole("heading", { name: "Today" }).count()).toBe(1);
    // Newest first.
    expect(await lines.first().getAttribute("data-type")).toBe("renamed");
    await p.screenshot({ path: artifact("history-activity.png") });
    await lines.filter({ hasText: "commented" }).getByRole("button", { name: "Show the version" }).click();
    expect(await accessibilityViolations(p)).toEqual([]);
    expect(W.errors).toEqual([]);
  });

  it("@ offers the document's members; the mention reaches that person's inbox, and opening it goes to the document and marks it read", { timeout: 120_000 }, async () => {
    const owner = await env.person("Mia Mentioner");
    const editor = await env.person("Eli Editor");
    const doc = await owner.api.createDoc("Budget");
    await share(owner, doc, editor, "editor");
    const M = await env.open("mentioner");
    const m = M.page;
    await signIn(m, owner);
    await openText(m, doc);
    await editorOf(m).click();
    await m.keyboard.type("Costs rise by ten percent.");
    await m.getByTestId("comments-button").click();
    await select(m, "ten percent");
    await sidebar(m).getByRole("button", { name: "Comment on the selection" }).click();
    const box = m.getByTestId("new-comment").getByLabel("Your comment");
    await box.pressSequentially("Is this right, @El");
    const option = m.getByRole("option", { name: /Eli Editor/ });
    await option.waitFor();
    await m.screenshot({ path: artifact("comments-mention.png") });
    await m.keyboard.press("Enter");
    await box.pressSequentially("?");
    expect(await box.inputValue()).toBe("Is this right, @Eli Editor ?");
    await m.getByTestId("new-comment").getByRole("button", { name: "Comment" }).click();
    await vi.waitFor(async () => expect(await threads(m).count()).toBe(1), WAIT);

    const E = await env.open("mentioned");
    const e = E.page;
    await signIn(e, editor);
    await e.getByRole("heading", { name: "Documents" }).waitFor();
    // The share and the mention, both unread.
    await vi.waitFor(async () => expect(await e.getByTestId("inbox-count").textContent()).toContain("2"), WAIT);
    await e.getByTestId("inbox-button").click();
    const items = e.getByTestId("inbox-item");
    expect(await items.first().textContent()).toContain("Mia Mentioner mentioned you in “Budget”");
    expect(await items.first().textContent()).toContain("Is this right, @Eli Editor ?");
    expect(await accessibilityViolations(e)).toEqual([]);
    await e.screenshot({ path: artifact("inbox.png") });
    await items.first().click();
    await e.waitForURL(`**/d/${doc.id}`);
    await vi.waitFor(async () => expect(await e.getByTestId("inbox-count").textContent()).toContain("1"), WAIT);
    for (const w of [M, E]) expect(w.errors).toEqual([]);
  });

  it("the inbox count moves live in every tab, over one stream for all of them; its footer chooses what comes by email", { timeout: 120_000 }, async () => {
    const owner = await env.person("Lia Live");
    const reader = await env.person("Rey Reader");
    const doc = await owner.api.createDoc("Live inbox");
    await share(owner, doc, reader, "commenter");
    const R = await env.open("reader");
    const streams: string[] = [];
    R.context.on("request", (req) => {
      if (new URL(req.url()).pathname === "/api/notifications/live") streams.push(req.url());
    });
    await signIn(R.page, reader);
    await R.page.getByRole("heading", { name: "Documents" }).waitFor();
    await vi.waitFor(async () => expect(await R.page.getByTestId("inbox-count").textContent()).toContain("1"), WAIT);
    const second = await R.context.newPage();
    await second.goto("/");
    await second.getByRole("heading", { name: "Documents" }).waitFor();
    await vi.waitFor(async () => expect(await second.getByTestId("inbox-count").textContent()).toContain("1"), WAIT);

    // The page reads its inbox every minute besides; a count that moves within seconds came live.
    await owner.api.post(`/api/docs/${doc.id}/comments`, { body: "@Rey Reader have a look", mentions: [reader.auth.user.id] });
    const LIVE = { timeout: 8_000, interval: 100 };
    await vi.waitFor(async () => expect(await R.page.getByTestId("inbox-count").textContent()).toContain("2"), LIVE);
    await vi.waitFor(async () => expect(await second.getByTestId("inbox-count").textContent()).toContain("2"), LIVE);
    expect(streams).toHaveLength(1);

    await second.getByTestId("inbox-button").click();
    const choice = second.getByLabel("Email me");
    await vi.waitFor(async () => expect(await choice.inputValue()).toBe("all"), WAIT);
    await choice.selectOption("mentions");
    await vi.waitFor(async () => expect((await reader.api.get("/api/notifications/settings")).body).toEqual({ email: "mentions" }), WAIT);
    expect(await accessibilityViolations(second)).toEqual([]);
    await second.screenshot({ path: artifact("inbox-email-setting.png") });
    // Marked read in one tab, the other's count goes too.
    await second.getByRole("button", { name: "Mark all read" }).click();
    await vi.waitFor(async () => expect(await R.page.getByTestId("inbox-count").count()).toBe(0), LIVE);
    expect(R.errors).toEqual([]);
  });
});
