// The history panel in a real browser against the whole running system: two people write, one
// names a version and rewrites everything; the timeslider and the named version show the earlier
// text, playback runs to the present, the diff is coloured by author, and a restore brings the
// earlier text back in both windows.

import { describe, expect, it, vi } from "vitest";
import type { EditView, Page as ApiPage, VersionView } from "@palimpsest/contracts";
import type { Page } from "playwright-core";
import { artifact, editorOf, share, signInAt, textOf, unexpectedErrors, useBrowserSystem, visibleText, waitForStatus, WAIT } from "./browser-harness.ts";

const env = useBrowserSystem("browser-history");

const panel = (page: Page) => page.getByTestId("history-panel");
const preview = (page: Page) => page.locator('[data-testid="history-preview"] .ProseMirror');
const position = (page: Page) => page.getByTestId("history-position");

describe("version history in the browser", () => {
  it("the timeslider shows an earlier version, and restoring it brings it back for both people", { timeout: 240_000 }, async () => {
    const ada = await env.person("Ada Author");
    const ben = await env.person("Ben Second");
    const doc = await ada.api.createDoc("A story with a past");
    await share(ada, doc, ben, "editor");
    const docPath = `/d/${doc.id}`;

    const A = await env.open("ada");
    const B = await env.open("ben");
    const a = A.page;
    const b = B.page;
    await signInAt(a, docPath, ada);
    await signInAt(b, docPath, ben);

    // ---- Two people write the first draft; each sees the other's caret.
    await editorOf(a).click();
    await a.keyboard.type("Once upon a time, Ada wrote.");
    await vi.waitFor(async () => expect(await textOf(b)).toBe("Once upon a time, Ada wrote."), WAIT);
    await editorOf(b).click();
    await b.keyboard.press("End");
    await b.keyboard.type(" Ben added more.");
    const draft = "Once upon a time, Ada wrote. Ben added more.";
    await vi.waitFor(async () => expect(await textOf(a)).toBe(draft), WAIT);
    await a.locator(".collaboration-carets__caret").filter({ hasText: "Ben Second" }).waitFor();
    await b.locator(".collaboration-carets__caret").filter({ hasText: "Ada Author" }).waitFor();
    await waitForStatus(a, ["saved"]);
    await waitForStatus(b, ["saved"]);
    await a.screenshot({ path: artifact("history-editor-two-carets.png") });

    // ---- Ada opens the history: it shows the present, grouped by author; she names it.
    await a.getByRole("button", { name: "History" }).click();
    await panel(a).waitFor();
    await vi.waitFor(async () => expect(await visibleText(preview(a))).toBe(draft), WAIT);
    const sessions = a.getByTestId("history-sessions");
    await sessions.getByText("Ada Author").first().waitFor();
    await sessions.getByText("Ben Second").first().waitFor();
    await a.getByRole("button", { name: "Name this version" }).click();
    await a.getByLabel("Version name").fill("First draft");
    await a.getByRole("button", { name: "Save name" }).click();
    await a.getByTestId("named-versions").getByText("First draft").waitFor();
    await a.getByRole("button", { name: "Close the history" }).click();
    await panel(a).waitFor({ state: "detached" });

    // ---- Ada rewrites everything.
    await editorOf(a).click();
    await a.keyboard.press("Control+A");
    await a.keyboard.type("Rewritten entirely by Ada.");
    const rewritten = "Rewritten entirely by Ada.";
    await vi.waitFor(async () => expect(await textOf(b)).toBe(rewritten), WAIT);
    await waitForStatus(a, ["saved"]);

    // ---- The timeslider: its first position is the first thing Ada typed, an earlier text.
    await a.getByRole("button", { name: "History" }).click();
    await vi.waitFor(async () => expect(await visibleText(preview(a))).toBe(rewritten), WAIT);
    const slider = a.getByLabel("Timeslider");
    const first = Number(await slider.getAttribute("min"));
    const head = Number(await slider.getAttribute("max"));
    expect(head).toBeGreaterThan(first);
    await slider.focus();
    await a.keyboard.press("Home");
    await vi.waitFor(async () => expect(await a.getByTestId("history-preview").getAttribute("data-seq")).toBe(String(first)), WAIT);
    const earliest = await visibleText(preview(a));
    expect(earliest.length).toBeGreaterThan(0);
    expect(draft.startsWith(earliest)).toBe(true);
    // (More versions may still join the list: the log follows the edit stream.)
    expect(await position(a).textContent()).toMatch(new RegExp(`^Version ${first} of \\d+$`));

    // Playback runs through the versions up to the present.
    await a.getByRole("button", { name: "Play the history" }).click();
    await vi.waitFor(async () => expect(await position(a).textContent()).toMatch(/^Version (\d+) of \1$/), { ...WAIT, timeout: 90_000 });
    await vi.waitFor(async () => expect(await visibleText(preview(a))).toBe(rewritten), WAIT);
    await a.getByRole("button", { name: "Play the history" }).waitFor();

    // The named version jumps back to the first draft.
    await a.getByTestId("named-versions").getByRole("button", { name: /First draft/ }).click();
    await vi.waitFor(async () => expect(await visibleText(preview(a))).toBe(draft), WAIT);
    const namedSeq = Number(await a.getByTestId("history-preview").getAttribute("data-seq"));
    const stored = await ada.api.get<VersionView>(`/api/docs/${doc.id}/versions/${namedSeq}`);
    expect(stored.body.text).toBe(draft);
    await a.screenshot({ path: artifact("history-panel.png") });

    // ---- The diff against the current version: Ada's rewrite, in her colour, with a legend.
    await a.getByLabel("Show changes").check();
    const diffText = a.getByTestId("diff-text");
    await diffText.waitFor();
    await vi.waitFor(async () => {
      expect(await diffText.locator("ins").allTextContents()).not.toEqual([]);
      expect((await diffText.locator("ins").allTextContents()).join("")).toContain("Rewritten entirely by Ada");
      expect((await diffText.locator("del").allTextContents()).join("")).toContain("Ben added more");
    }, WAIT);
    expect(new Set(await diffText.locator("ins, del").evaluateAll((els) => els.map((el) => String(el.getAttribute("data-author")))))).toEqual(
      new Set([ada.auth.user.id]),
    );
    await a.getByTestId("diff-legend").getByText("Ada Author").waitFor();
    // From the empty document to the first draft: both authors, each in their own colour.
    await a.getByLabel("Compare with").selectOption("start");
    await vi.waitFor(async () => {
      const legend = a.getByTestId("diff-legend");
      expect(await legend.getByText("Ada Author").count()).toBe(1);
      expect(await legend.getByText("Ben Second").count()).toBe(1);
    }, WAIT);
    const insertedBy = await diffText.locator("ins").evaluateAll((els) => els.map((el) => [String(el.getAttribute("data-author")), String(el.textContent)]));
    expect(insertedBy.map(([, text]) => text).join("")).toBe(draft);
    expect(insertedBy.filter(([author]) => author === ben.auth.user.id).map(([, text]) => text).join("")).toContain("Ben added more.");
    await a.screenshot({ path: artifact("history-diff.png") });
    // At 1280 px the bar with the comparison's controls keeps to one row.
    expect((await a.locator(".history-bar").boundingBox())?.height).toBeLessThan(60);
    // Two chosen versions: keep the earliest as one side, then pick the named draft.
    await slider.focus();
    await a.keyboard.press("Home");
    await a.getByRole("button", { name: "Pin this version" }).click();
    await a.getByTestId("named-versions").getByRole("button", { name: /First draft/ }).click();
    await a.getByText(`What changed from version ${first} to version ${namedSeq}:`).waitFor();
    await vi.waitFor(async () => {
      expect((await diffText.locator("ins").allTextContents()).join("")).toBe(draft.slice(earliest.length));
      expect(await diffText.locator("del").count()).toBe(0);
    }, WAIT);
    await a.getByLabel("Show changes").uncheck();
    await vi.waitFor(async () => expect(await visibleText(preview(a))).toBe(draft), WAIT);

    // ---- Restore the first draft (after confirming): both windows show it, live.
    await a.getByRole("button", { name: "Restore this version" }).click();
    await a.getByRole("group", { name: "Confirm restore" }).getByRole("button", { name: "Restore", exact: true }).click();
    await panel(a).waitFor({ state: "detached" });
    await a.getByRole("status").filter({ hasText: "Restored the version" }).waitFor();
    await vi.waitFor(async () => {
      expect(await textOf(a)).toBe(draft);
      expect(await textOf(b)).toBe(draft);
    }, WAIT);
    // Ben's text changed under him: he is told by whom, and where the text from before is.
    const told = b.getByTestId("document-notice");
    await told.filter({ hasText: "Ada Author restored an earlier version" }).waitFor();
    await told.getByRole("button", { name: "Open the history" }).waitFor();
    // Ada, who restored it, has her own words for it, not Ben's.
    expect(await a.getByTestId("document-notice").filter({ hasText: "restored an earlier version, so the text changed" }).count()).toBe(0);
    await told.getByRole("button", { name: "Dismiss" }).click();

    // The restore is one more version; everything before it is still there.
    await vi.waitFor(async () => {
      const edits = (await ada.api.get<ApiPage<EditView>>(`/api/docs/${doc.id}/history?limit=1000`)).body.items;
      const last = edits.at(-1);
      expect(last?.seq).toBeGreaterThan(head);
      expect(String(last?.clientId)).toMatch(/^restore:/);
    }, WAIT);

    // Ben, still editing, keeps working on the restored text.
    await editorOf(b).click();
    await b.keyboard.press("End");
    await b.keyboard.type(" The end.");
    await vi.waitFor(async () => expect(await textOf(a)).toBe(`${draft} The end.`), WAIT);

    for (const win of [A, B]) expect(win.errors).toEqual([]);
  });

  it("Show changes keeps the document's formatting and marks each change with its author, a new heading and a word made bold included", { timeout: 180_000 }, async () => {
    const ada = await env.person("Ada Reader");
    const ben = await env.person("Ben Formatter");
    const doc = await ada.api.createDoc("Formatted changes");
    await share(ada, doc, ben, "editor");
    const docPath = `/d/${doc.id}`;
    const B = await env.open("ben-formatter");
    const b = B.page;
    await signInAt(b, docPath, ben);
    await editorOf(b).click();
    await b.keyboard.type("Results are in");
    await b.keyboard.press("Enter");
    await b.keyboard.type("The trial ran for weeks.");
    await waitForStatus(b, ["saved"]);

    // Given a version named once the history holds the plain draft
    const draft = "Results are in\nThe trial ran for weeks.";
    const draftSeq = await vi.waitFor(async () => {
      const edits = await ada.api.get<ApiPage<EditView>>(`/api/docs/${doc.id}/history?limit=1000`);
      const seq = edits.body.items.at(-1)?.seq ?? 0;
      expect((await ada.api.get<VersionView>(`/api/docs/${doc.id}/versions/${seq}`)).body.text).toBe(draft);
      return seq;
    }, WAIT);
    expect((await ada.api.call("POST", `/api/docs/${doc.id}/versions`, { name: "Plain draft", seq: draftSeq })).status).toBe(201);

    // When Ben makes the first line a heading, one word bold, and adds a sentence
    await editorOf(b).locator("p", { hasText: "Results are in" }).click();
    await b.getByRole("button", { name: "H2, heading 2" }).click();
    await editorOf(b).locator("h2", { hasText: "Results are in" }).waitFor();
    await editorOf(b).locator("p", { hasText: "weeks" }).click();
    await b.keyboard.press("End");
    await b.keyboard.press("ArrowLeft");
    for (let i = 0; i < "weeks".length; i++) await b.keyboard.press("Shift+ArrowLeft");
    await vi.waitFor(async () => expect(await b.evaluate(() => String((globalThis as unknown as { getSelection(): unknown }).getSelection()))).toBe("weeks"), WAIT);
    await b.getByRole("button", { name: "Bold" }).click();
    await editorOf(b).locator("strong", { hasText: "weeks" }).waitFor();
    await editorOf(b).click();
    await b.keyboard.press("End");
    await b.keyboard.type(" Twelve people took part.");
    await waitForStatus(b, ["saved"]);

    // Then Ada, comparing with the named draft, sees the document as formatted now with each change marked as Ben's
    const A = await env.open("ada-reader");
    const a = A.page;
    await signInAt(a, docPath, ada);
    await a.getByRole("button", { name: "History" }).click();
    await panel(a).waitFor();
    await a.getByLabel("Show changes").check();
    await a.getByLabel("Compare with").selectOption(`seq:${draftSeq}`);
    const diff = a.getByTestId("diff-text");
    await vi.waitFor(async () => {
      expect(await diff.locator("h2").textContent()).toBe("Results are in");
      expect(await diff.locator("h2 .diff-format").getAttribute("data-author")).toBe(ben.auth.user.id);
      expect(await diff.locator(".diff-format strong").textContent()).toBe("weeks");
      expect(await diff.locator(".diff-format strong").getAttribute("class")).toBeNull();
      expect((await diff.locator("ins").allTextContents()).join("")).toBe(" Twelve people took part.");
      expect(await diff.locator("del").count()).toBe(0);
    }, WAIT);
    expect(new Set(await diff.locator("ins, .diff-format").evaluateAll((els) => els.map((el) => el.getAttribute("data-author"))))).toEqual(new Set([ben.auth.user.id]));
    expect(await diff.locator(".diff-format").first().getAttribute("title")).toBe("Formatting changed by Ben Formatter");
    const legend = a.getByTestId("diff-legend");
    await legend.getByText("Ben Formatter").waitFor();
    expect(await legend.textContent()).toMatch(/\+25 characters.*19 characters reformatted/);
    await a.screenshot({ path: artifact("history-formatted-diff.png") });
    expect(unexpectedErrors(A)).toEqual([]);
    expect(unexpectedErrors(B)).toEqual([]);
  });

  it("the name of someone removed from the document stays with what they wrote in its history", async () => {
    const ada = await env.person("Ada Keeper");
    const cy = await env.person("Cy Departed");
    const doc = await ada.api.createDoc("Who wrote this");
    await share(ada, doc, cy, "editor");
    const docPath = `/d/${doc.id}`;
    const C = await env.open("cy");
    await signInAt(C.page, docPath, cy);
    await editorOf(C.page).click();
    await C.page.keyboard.type("Cy wrote this line.");
    await waitForStatus(C.page, ["saved"]);

    // When Ada removes Cy from the document
    const removed = await ada.api.call("DELETE", `/api/docs/${doc.id}/members/${cy.auth.user.id}`);
    expect(removed.status).toBeLessThan(300);

    // Then her history still says who wrote the line
    const A = await env.open("ada-keeper");
    await signInAt(A.page, docPath, ada);
    await A.page.getByRole("button", { name: "History" }).click();
    await panel(A.page).waitFor();
    await A.page.getByTestId("history-sessions").getByText("Cy Departed").first().waitFor();
    expect(await panel(A.page).getByText("Former collaborator").count()).toBe(0);
    expect(A.errors).toEqual([]);
  });
});
