// A newcomer in a real browser: signs up, creates a text document from the dashboard, opens
// the same /d/:id link in a second browser context signed in as the same person, and both
// windows co-edit live with carets and presence, against the whole running system. Then two
// people write with the editor's structure (Markdown shortcuts, a checklist ticked by mouse, a
// link set and edited in the link box) and each sees the other's.

import { randomUUID } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import type { Page } from "playwright-core";
import type { EditView, Page as ApiPage, VersionView } from "@palimpsest/contracts";
import {
  artifact,
  editorOf,
  PASSWORD,
  signInAt,
  statusOf,
  textOf,
  useBrowserSystem,
  visibleText,
  waitForStatus,
  WAIT,
  twoEditors,
  unexpectedErrors,
} from "./browser-harness.ts";

const env = useBrowserSystem("browser-co-edit");

/** Signs up through the form (with the harness's password, so signInAt works for the account). */
async function signUp(page: Page, name: string, email: string): Promise<void> {
  await page.goto("/");
  await page.getByRole("button", { name: "Create an account" }).click();
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
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
    const name = "Ada Newcomer";
    const title = "Our first notes";

    // ---- Window A: sign up through the form, create a text document from the dashboard.
    const A = await env.open("A");
    const a = A.page;
    await signUp(a, name, email);
    await a.getByText("No documents yet.").waitFor();
    await a.screenshot({ path: artifact("co-edit-dashboard.png") });

    const docPath = await createTextDocument(a, title);
    await a.getByTestId("doc-title").filter({ hasText: title }).waitFor();
    await editorOf(a).waitFor();
    await waitForStatus(a, ["online", "saved"]);
    expect(await a.title()).toBe(`${title} · Palimpsest`);
    // Alone in the document, A still hears its own presence back: y-websocket drops a
    // connection that received nothing for 30 s, so without it a lone editor reconnects.
    await vi.waitFor(() => expect(A.sockets[0]?.awarenessReceived).toBeGreaterThan(0), WAIT);

    // ---- Window B: a fresh context follows the shared link, signs in, and lands on the document.
    const B = await env.open("B");
    const b = B.page;
    await signInAt(b, docPath, { email });
    await b.getByTestId("doc-title").filter({ hasText: title }).waitFor();
    await waitForStatus(b, ["online", "saved"]);

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
    await b.screenshot({ path: artifact("co-edit-editor-b.png") });
    await a.screenshot({ path: artifact("co-edit-editor-a.png") });

    // One connection each, never dropped, and nothing went wrong in either page.
    for (const win of [A, B]) {
      expect(win.sockets.map((s) => s.closed)).toEqual([false]);
      expect(win.errors).toEqual([]);
    }
  });

  it("signing up with an address that has an account offers to sign in instead, and the server's words read as sentences", async () => {
    const taken = await env.person("Already Here");
    const W = await env.open("A");
    const page = W.page;
    await page.goto("/");
    await page.getByRole("button", { name: "Create an account" }).click();
    await page.getByLabel("Name").fill("Someone Else");
    await page.getByLabel("Email").fill(taken.email);
    await page.getByLabel("Password").fill("a different password");
    await page.getByRole("button", { name: "Create account" }).click();
    const alert = page.getByTestId("auth-error");
    await alert.filter({ hasText: "An account with this email already exists." }).waitFor();
    await alert.getByRole("button", { name: "Sign in instead" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    // The address typed is kept.
    expect(await page.getByLabel("Email").inputValue()).toBe(taken.email);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await alert.filter({ hasText: "Email or password is incorrect." }).waitFor();
    expect(await alert.textContent()).toBe("Email or password is incorrect.");
    // The refused requests themselves (409, 401) are the browser's own console lines.
    expect(unexpectedErrors(W)).toEqual([]);
  });

  it("a document screen that cannot be downloaded offers a reload instead of a blank page", async () => {
    const W = await env.open("W");
    const page = W.page;
    await signUp(page, "Grace Updated", `reload-${randomUUID()}@example.test`);
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
    await waitForStatus(page, ["online", "saved"]);
  });

  it("headings, checklists, quotes, code and links from Markdown shortcuts and the toolbar reach the other person", async () => {
    const { owner: ada, doc, A, B } = await twoEditors(env, ["Ada Lists", "Bob Shopper"], "Shopping");
    const [a, b] = [A.page, B.page];
    const editorA = editorOf(a);
    const editorB = editorOf(b);
    // A key pressed right after another that moved the caret can still meet the old selection (the
    // editor learns of the move a moment later), as no person types: wait until B sees A's selection.
    const selectionOfA = editorB.locator(".ProseMirror-yjs-selection");
    const toLineEnd = async (): Promise<void> => {
      await selectionOfA.first().waitFor();
      await a.keyboard.press("End");
      await selectionOfA.first().waitFor({ state: "detached" });
    };

    // ---- Markdown as it is typed: a heading, then "- [ ] " makes a task, not a bullet.
    await editorA.click();
    await a.keyboard.type("## Groceries");
    await a.keyboard.press("Enter");
    await a.keyboard.type("- [ ] buy milk");
    await a.keyboard.press("Enter");
    await a.keyboard.type("bake bread");
    await a.keyboard.press("Enter");
    await a.keyboard.press("Enter");
    const tasksB = editorB.locator('ul[data-type="taskList"] > li');
    await vi.waitFor(async () => expect(await tasksB.locator(":scope > div").allTextContents()).toEqual(["buy milk", "bake bread"]), WAIT);
    await editorB.locator("h2").filter({ hasText: "Groceries" }).waitFor();
    expect(await editorA.locator("ul:not([data-type])").count()).toBe(0);

    // ---- A link on selected words from the link box: a script address is refused, a bare one is made https.
    await a.keyboard.type("See the shop");
    for (let i = 0; i < "the shop".length; i++) await a.keyboard.press("Shift+ArrowLeft");
    await selectionOfA.filter({ hasText: "the shop" }).waitFor();
    await a.getByRole("button", { name: "Link", exact: true }).click();
    const linkBox = a.getByRole("dialog", { name: "Add link" });
    await linkBox.getByLabel("Link address").fill("javascript:alert(1)");
    await linkBox.getByRole("button", { name: "Add link" }).click();
    await linkBox.getByRole("alert").filter({ hasText: "Enter a web address" }).waitFor();
    await linkBox.getByLabel("Link address").fill("shop.example.com/milk");
    await linkBox.getByRole("button", { name: "Add link" }).click();
    await linkBox.waitFor({ state: "detached" });
    await editorB.locator('a[href="https://shop.example.com/milk"]').filter({ hasText: "the shop" }).waitFor();

    // ---- Mod-K on the link edits it in place, for both.
    await toLineEnd();
    await a.keyboard.press("Control+k");
    const editBox = a.getByRole("dialog", { name: "Edit link" });
    expect(await editBox.getByLabel("Link address").inputValue()).toBe("https://shop.example.com/milk");
    await editBox.getByLabel("Link address").fill("https://shop.example.com/oat-milk");
    await a.keyboard.press("Enter");
    await editBox.waitFor({ state: "detached" });
    await editorB.locator('a[href="https://shop.example.com/oat-milk"]').filter({ hasText: "the shop" }).waitFor();

    // ---- A quote and a code block, from their Markdown shortcuts (the edited link is still selected).
    await toLineEnd();
    await a.keyboard.press("Enter");
    await a.keyboard.type("> Fresh is best");
    await a.keyboard.press("Enter");
    await a.keyboard.press("Enter");
    await a.keyboard.type("```");
    await a.keyboard.press("Enter");
    await a.keyboard.type("milk = 2");
    await editorB.locator("blockquote").filter({ hasText: "Fresh is best" }).waitFor();
    await editorB.locator("pre code").filter({ hasText: "milk = 2" }).waitFor();

    // ---- Tasks are ticked with the mouse: A's tick shows for B; B ticks and unticks the other, A follows.
    await a.getByRole("checkbox", { name: "To do: buy milk" }).click();
    const milkB = b.getByRole("checkbox", { name: "Done: buy milk" });
    await vi.waitFor(async () => expect(await milkB.isChecked()).toBe(true), WAIT);
    expect(await tasksB.first().getAttribute("data-checked")).toBe("true");
    await b.getByRole("checkbox", { name: "To do: bake bread" }).click();
    await vi.waitFor(async () => expect(await a.getByRole("checkbox", { name: "Done: bake bread" }).isChecked()).toBe(true), WAIT);
    await b.getByRole("checkbox", { name: "Done: bake bread" }).click();
    await vi.waitFor(async () => expect(await a.getByRole("checkbox", { name: "To do: bake bread" }).isChecked()).toBe(false), WAIT);

    const text = await textOf(b);
    expect(text).toBe("Groceriesbuy milkbake breadSee the shopFresh is bestmilk = 2");
    await waitForStatus(a, ["saved"]);
    await waitForStatus(b, ["saved"]);
    await a.screenshot({ path: artifact("co-edit-structure.png") });

    // ---- The server keeps the structure: the stored version reads as this Markdown.
    const markdown = ["## Groceries", "- [x] buy milk\n- [ ] bake bread", "See [the shop](https://shop.example.com/oat-milk)", "> Fresh is best", "```\nmilk = 2\n```"].join("\n\n");
    await vi.waitFor(async () => {
      const last = (await ada.api.get<ApiPage<EditView>>(`/api/docs/${doc.id}/history?limit=1000`)).body.items.at(-1);
      const version = await ada.api.get<VersionView>(`/api/docs/${doc.id}/versions/${last?.seq ?? 0}`);
      expect(version.body.markdown.trim()).toBe(markdown);
    }, WAIT);

    // ---- The history shows the same version with ticks and links, and its checkboxes cannot be changed.
    await a.getByRole("button", { name: "History" }).click();
    const preview = a.locator('[data-testid="history-preview"] .ProseMirror');
    await vi.waitFor(async () => expect(await visibleText(preview)).toBe(text), WAIT);
    const previewMilk = preview.getByRole("checkbox", { name: "Done: buy milk" });
    expect(await previewMilk.isChecked()).toBe(true);
    await previewMilk.click();
    expect(await previewMilk.isChecked()).toBe(true);
    expect(await preview.locator('a[href="https://shop.example.com/oat-milk"]').textContent()).toBe("the shop");

    for (const win of [A, B]) expect(win.errors).toEqual([]);
  });

  it("redo with nothing to redo, pressed as Chrome on macOS reports Cmd+Shift+Z, changes nothing for anyone", async () => {
    const { A, B } = await twoEditors(env, ["Ada Redo", "Bob Redo"], "Redo keys");
    const [a, b] = [A.page, B.page];
    await editorOf(a).click();
    await a.keyboard.type("Hello world.");
    await vi.waitFor(async () => expect(await textOf(b)).toBe("Hello world."), WAIT);

    // The key as macOS Chrome sends it: "z" (not "Z") with Shift held; Mod is Ctrl off a Mac.
    const redoAsMacChromeSendsIt = (): Promise<boolean> =>
      editorOf(a).evaluate((el) => {
        const { KeyboardEvent: Key } = globalThis as unknown as { KeyboardEvent: new (type: string, init: Record<string, unknown>) => Event };
        return !el.dispatchEvent(new Key("keydown", { key: "z", code: "KeyZ", ctrlKey: true, shiftKey: true, bubbles: true, cancelable: true }));
      });
    expect(await redoAsMacChromeSendsIt()).toBe(true);
    // And once more, as after one redo too many.
    await redoAsMacChromeSendsIt();
    await a.keyboard.type("!");

    await vi.waitFor(async () => expect(await textOf(b)).toBe("Hello world.!"), WAIT);
    expect(await textOf(a)).toBe("Hello world.!");
    expect(await a.getByRole("button", { name: /^Redo/ }).isDisabled()).toBe(true);
    for (const win of [A, B]) expect(win.errors).toEqual([]);
  });

  it("a keyboard user tabs past the text without changing it, leaves a list with Escape then Tab, and Escape out of the history returns to its button", async () => {
    const { A, B } = await twoEditors(env, ["Ada Keys", "Bob Keys"], "Keyboard");
    const [a, b] = [A.page, B.page];
    const editorA = editorOf(a);
    const focused = (page: Page): Promise<{ inEditor: boolean; label: string }> =>
      page.evaluate(() => {
        const active = (globalThis as unknown as { document: { activeElement: { closest(s: string): unknown; textContent: string | null } | null } }).document.activeElement;
        return { inEditor: active?.closest('[data-testid="editor"]') != null, label: active?.textContent?.trim() ?? "" };
      });
    const nestedLists = (page: Page): Promise<number> => editorOf(page).locator("ul ul").count();
    await editorA.click();
    await a.keyboard.type("- one");
    await a.keyboard.press("Enter");
    await a.keyboard.type("two");
    await vi.waitFor(async () => expect(await editorOf(b).locator("li").count()).toBe(2), WAIT);

    // ---- Tabbing from the toolbar into the text, then on: focus passes, the document stays as it was.
    await a.getByRole("button", { name: /^Undo/ }).focus();
    for (let i = 0; i < 30 && !(await focused(a)).inEditor; i++) await a.keyboard.press("Tab");
    expect((await focused(a)).inEditor).toBe(true);
    await a.keyboard.press("Tab");
    expect((await focused(a)).inEditor).toBe(false);
    expect(await nestedLists(a)).toBe(0);

    // ---- Inside a list Tab still indents; Escape, then Tab, moves on.
    await editorA.getByText("two").click();
    await a.keyboard.press("End");
    await a.keyboard.press("Tab");
    await vi.waitFor(async () => expect(await nestedLists(b)).toBe(1), WAIT);
    await a.keyboard.press("Escape");
    await a.keyboard.press("Tab");
    expect((await focused(a)).inEditor).toBe(false);
    expect(await nestedLists(a)).toBe(1);

    // ---- The history closed with Escape hands the focus back to its button.
    await a.getByRole("button", { name: "History", exact: true }).focus();
    await a.keyboard.press("Enter");
    await a.getByRole("button", { name: "History", exact: true, pressed: true }).waitFor();
    // Focus inside the panel, as after tabbing into it: the panel goes away with it.
    await a.getByRole("button", { name: "Close the history" }).focus();
    await a.keyboard.press("Escape");
    await a.getByRole("button", { name: "History", exact: true, pressed: false }).waitFor();
    expect((await focused(a)).label).toBe("History");
    for (const win of [A, B]) expect(win.errors).toEqual([]);
  });

  it("a link is followed with Ctrl+click while writing, says so on hover, and a plain click only places the caret", async () => {
    const { A, B } = await twoEditors(env, ["Ada Links", "Bob Links"], "Links");
    const [a, b] = [A.page, B.page];
    // The address answers here: nothing leaves the machine.
    await B.context.route("https://shop.example.com/**", (route) => route.fulfill({ contentType: "text/html", body: "<title>Shop</title>" }));
    await editorOf(a).click();
    await a.keyboard.type("Buy at https://shop.example.com/milk ");
    const link = editorOf(b).locator('a[href="https://shop.example.com/milk"]');
    await link.waitFor();
    await link.hover();
    await vi.waitFor(async () => expect(await b.getByRole("tooltip").textContent()).toBe("Ctrl+click to open https://shop.example.com/milk"), WAIT);
    await b.screenshot({ path: artifact("co-edit-link-hint.png") });

    const pagesBefore = B.context.pages().length;
    await link.click();
    expect(B.context.pages().length).toBe(pagesBefore);

    const [opened] = await Promise.all([B.context.waitForEvent("page"), link.click({ modifiers: ["Control"] })]);
    await opened.waitForLoadState();
    expect(opened.url()).toBe("https://shop.example.com/milk");
    // Opened without a way back to the document's page.
    expect(await opened.evaluate(() => (globalThis as unknown as { opener: unknown }).opener)).toBeNull();
    expect(B.context.pages().length).toBe(pagesBefore + 1);
    await opened.close();
    // The text is as it was: following a link changed nothing.
    expect(await textOf(b)).toBe("Buy at https://shop.example.com/milk ");
    for (const win of [A, B]) expect(win.errors).toEqual([]);
  });

  it("renames from the document header, and the new title reaches everyone with it open at once, wherever it was renamed", async () => {
    const { owner, doc, A, B } = await twoEditors(env, ["Ada Rename", "Bob Rename"], "Draft title");
    const [a, b] = [A.page, B.page];
    // Within a few seconds, not at the page's 30 s poll.
    const soon = { timeout: 5_000, interval: 100 };

    // The owner renames in place: the pencil, a new title, Enter.
    await a.getByRole("button", { name: "Rename document" }).click();
    const field = a.getByLabel("Document title");
    expect(await field.inputValue()).toBe("Draft title");
    await field.fill("Launch plan");
    await field.press("Enter");
    await a.getByTestId("doc-title").filter({ hasText: "Launch plan" }).waitFor();
    // Focus returns to the pencil, not the page.
    await vi.waitFor(async () => expect(await a.evaluate(() => (globalThis as unknown as { document: { activeElement: { getAttribute(n: string): string | null } | null } }).document.activeElement?.getAttribute("data-testid"))).toBe("rename-document"), soon);
    await vi.waitFor(async () => expect(await b.getByTestId("doc-title").textContent()).toBe("Launch plan"), soon);
    await vi.waitFor(async () => expect(await b.title()).toBe("Launch plan · Palimpsest"), soon);

    // Escape leaves the title as it was.
    await b.getByRole("button", { name: "Rename document" }).click();
    await b.getByLabel("Document title").fill("Not this");
    await b.getByLabel("Document title").press("Escape");
    expect(await b.getByTestId("doc-title").textContent()).toBe("Launch plan");

    // Renamed elsewhere (the dashboard, another device): open pages follow too.
    await owner.api.call("PATCH", `/api/docs/${doc.id}`, { title: "Launch plan v2" });
    await vi.waitFor(async () => {
      expect(await a.getByTestId("doc-title").textContent()).toBe("Launch plan v2");
      expect(await b.getByTestId("doc-title").textContent()).toBe("Launch plan v2");
    }, soon);
    await a.screenshot({ path: artifact("co-edit-rename.png") });
    for (const win of [A, B]) expect(win.errors).toEqual([]);
  });
});
