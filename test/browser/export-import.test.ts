// Export and import in a real browser: the document header's Export menu saves the document as
// Markdown, and Import on the dashboard turns a Markdown file into a new document that opens.

import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { editorOf, openText, signIn, textOf, unexpectedErrors, useBrowserSystem, waitForStatus } from "./browser-harness.ts";

const env = useBrowserSystem("browser-export-import");

describe("export and import in a real browser", () => {
  it("downloads the document as Markdown from the header, and imports a Markdown file from the dashboard", { timeout: 180_000 }, async () => {
    const ada = await env.person("Ada Exporter");
    const doc = await ada.api.createDoc("Field notes");
    const A = await env.open("A");
    const a = A.page;
    await signIn(a, ada);
    await openText(a, doc);
    await editorOf(a).click();
    await a.keyboard.type("Seen today");
    await waitForStatus(a, ["saved"]);

    await a.getByTestId("export-button").click();
    const [download] = await Promise.all([a.waitForEvent("download"), a.getByTestId("export-md").click()]);
    expect(download.suggestedFilename()).toBe("Field-notes.md");
    const saved = await download.path();
    expect(fs.readFileSync(saved, "utf8")).toBe("Seen today\n");

    await a.goto("/");
    await a.getByTestId("import-file").setInputFiles({ name: "plan.md", mimeType: "text/markdown", buffer: Buffer.from("# Imported plan\n\n- [x] draft\n- [ ] review\n") });
    await a.waitForURL(/\/d\/[^/]+$/);
    await a.getByTestId("doc-title").filter({ hasText: "Imported plan" }).waitFor();
    await a.locator('[data-testid="editor"][data-loaded="true"]').waitFor();
    expect(await textOf(a)).toContain("Imported plan");
    expect(await editorOf(a).locator('li[data-checked="true"]').count()).toBe(1);
    expect(unexpectedErrors(A)).toEqual([]);
  });
});
