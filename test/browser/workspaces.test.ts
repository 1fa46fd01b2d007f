// Workspaces in a real browser against the whole running system: Ann makes a workspace from the
// dashboard's switcher, adds Ben to it from its settings and makes a document in it; Ben switches
// to it and opens the document; the workspace cannot be deleted while it holds it; Ann moves the
// document to her own documents and it leaves Ben's list.

import fs from "node:fs";
import { describe, expect, it, vi } from "vitest";
import type { DocView, Page as ApiPage, WorkspaceView } from "@palimpsest/contracts";
import type { Page } from "playwright-core";
import { accessibilityViolations, artifact, signIn, unexpectedErrors, useBrowserSystem, WAIT } from "./browser-harness.ts";

const env = useBrowserSystem("browser-workspaces");

const row = (page: Page, title: string) => page.locator(`[data-testid="doc-list"] li[data-title="${title}"]`);
const titles = (page: Page): Promise<string[]> => page.locator('[data-testid="doc-list"] li').evaluateAll((items) => items.map((item) => String(item.getAttribute("data-title"))));
const switcher = (page: Page) => page.getByTestId("workspace-switcher");
const workspaceLink = (page: Page, name: string) => switcher(page).getByRole("link", { name: new RegExp(`^${name}\\b`) });
const settings = (page: Page) => page.getByTestId("workspace-dialog");

/** How far the page reaches past the screen's right edge (0: nothing scrolls sideways). */
async function overflow(page: Page): Promise<number> {
  return page.evaluate(() => {
    const { document: d } = globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } };
    return d.documentElement.scrollWidth - d.documentElement.clientWidth;
  });
}

describe("workspaces in the browser", () => {
  it("a workspace made in the dashboard is shared with a member, holds documents they open, and a document moved out leaves their list", { timeout: 300_000 }, async () => {
    const ann = await env.person("Ann Workspace");
    const ben = await env.person("Ben Member");
    await ann.api.createDoc("Ann's own notes");

    // ---- Ann makes the workspace "Design" from the switcher: the dashboard switches to it, in the address too.
    const A = await env.open("ann");
    const a = A.page;
    await signIn(a, ann);
    await row(a, "Ann's own notes").waitFor();
    await switcher(a).getByText("Share documents with a team").waitFor();
    await switcher(a).getByRole("button", { name: "New workspace" }).click();
    await a.getByLabel("Workspace name").fill("Design");
    await switcher(a).getByRole("button", { name: "Create workspace" }).click();
    await a.getByRole("heading", { level: 1, name: "Design" }).waitFor();
    const workspaceId = new URL(a.url()).searchParams.get("workspace");
    expect(workspaceId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(await workspaceLink(a, "Design").getAttribute("aria-current")).toBe("page");
    await workspaceLink(a, "Design").getByText("Owner").waitFor();
    await a.getByText("No documents in Design yet.").waitFor();
    const mine = (await ann.api.get<{ items: WorkspaceView[] }>("/api/workspaces")).body.items;
    expect(mine.map((w) => [w.id, w.name, w.role])).toEqual([[workspaceId, "Design", "owner"]]);

    // ---- Its settings: a bad address is explained; Ben is added as a member.
    await a.getByRole("button", { name: "Workspace settings" }).click();
    const dialog = settings(a);
    await dialog.waitFor();
    await dialog.locator(`[data-user-email="${ann.email}"]`).getByText("(you)").waitFor();
    const email = dialog.getByLabel("Email address of the person to add");
    await email.fill("not an address");
    await dialog.getByRole("button", { name: "Add", exact: true }).click();
    await dialog.getByRole("alert").filter({ hasText: "Enter a valid email address" }).waitFor();
    await email.fill(ben.email);
    await dialog.getByLabel("Role of the new member").selectOption("member");
    await dialog.getByRole("button", { name: "Add", exact: true }).click();
    const benRow = dialog.locator(`[data-user-email="${ben.email}"]`);
    await benRow.getByText("Ben Member").waitFor();
    expect(await benRow.getByLabel("Role of Ben Member").inputValue()).toBe("member");
    await dialog.getByRole("status").filter({ hasText: "Ben Member is now a member of Design." }).waitFor();
    await dialog.getByRole("button", { name: "Done" }).click();
    await dialog.waitFor({ state: "detached" });
    await a.getByText("2 members").waitFor();

    // ---- A document made while Design is chosen is made in Design.
    await a.getByPlaceholder("Title of a new document").fill("Design brief");
    await a.getByRole("button", { name: "Create", exact: true }).click();
    await a.waitForURL(/\/d\/[^/]+$/);
    const docId = decodeURIComponent(new URL(a.url()).pathname.split("/").at(-1) ?? "");
    expect((await ann.api.get<DocView>(`/api/docs/${docId}`)).body.workspaceId).toBe(workspaceId);
    await a.goto(`/?workspace=${workspaceId}`);
    await row(a, "Design brief").waitFor();
    expect(await titles(a)).toEqual(["Design brief"]);
    await a.screenshot({ path: artifact("workspaces-dashboard.png") });
    expect(await accessibilityViolations(a)).toEqual([]);

    // "My documents" holds the rest; "Everything" both, with the workspace named on its row.
    await workspaceLink(a, "My documents").click();
    await a.getByRole("heading", { level: 1, name: "My documents" }).waitFor();
    await vi.waitFor(async () => expect(await titles(a)).toEqual(["Ann's own notes"]), WAIT);
    await workspaceLink(a, "Everything").click();
    await row(a, "Design brief").waitFor();
    await row(a, "Design brief").getByText("Design", { exact: true }).waitFor();

    // ---- Ben switches to Design, sees the document as an editor (no move for him), and opens it.
    const B = await env.open("ben");
    const b = B.page;
    await signIn(b, ben);
    await workspaceLink(b, "Design").getByText("Member").waitFor();
    await workspaceLink(b, "Design").click();
    await b.getByRole("heading", { level: 1, name: "Design" }).waitFor();
    expect(new URL(b.url()).searchParams.get("workspace")).toBe(workspaceId);
    await row(b, "Design brief").waitFor();
    expect(await row(b, "Design brief").locator("[data-role]").getAttribute("data-role")).toBe("editor");
    expect(await row(b, "Design brief").getByRole("button", { name: /to another workspace/ }).count()).toBe(0);
    await b.screenshot({ path: artifact("workspaces-member-dashboard.png") });
    await row(b, "Design brief").getByRole("link").click();
    await b.getByTestId("doc-title").filter({ hasText: "Design brief" }).waitFor();
    await b.locator('[data-testid="editor"][data-loaded="true"]').waitFor();
    await b.goBack();
    await row(b, "Design brief").waitFor();

    // On a phone the switcher sits above the list, and nothing scrolls sideways.
    const P = await env.open("ben-phone", { phone: true });
    const p = P.page;
    await signIn(p, ben);
    await workspaceLink(p, "Design").tap();
    await row(p, "Design brief").waitFor();
    await p.screenshot({ path: artifact("workspaces-phone.png") });
    expect(await overflow(p)).toBe(0);

    // ---- Design cannot be deleted while it holds the document: the server's reason is shown.
    await a.goto(`/?workspace=${workspaceId}`);
    await row(a, "Design brief").waitFor();
    await a.getByRole("button", { name: "Workspace settings" }).click();
    await settings(a).getByRole("button", { name: "Delete workspace" }).click();
    await settings(a).getByRole("button", { name: "Delete Design now" }).click();
    await settings(a).getByRole("alert").filter({ hasText: "The workspace still holds 1 document" }).waitFor();
    await a.screenshot({ path: artifact("workspaces-settings.png") });
    // The whole workspace downloads as one archive: its header line, then its document.
    const [download] = await Promise.all([a.waitForEvent("download"), settings(a).getByRole("button", { name: "Export workspace" }).click()]);
    expect(download.suggestedFilename()).toBe("Design.palimpsest-workspace.ndjson");
    const lines = fs.readFileSync((await download.path())!, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { type: string; archive?: { document: { title: string } } });
    expect(lines.map((l) => l.type)).toEqual(["workspace", "document"]);
    expect(lines[1]!.archive!.document.title).toBe("Design brief");
    expect(await accessibilityViolations(a)).toEqual([]);
    await a.keyboard.press("Escape");
    await settings(a).waitFor({ state: "detached" });

    // ---- Ann moves the document to her own documents.
    await row(a, "Design brief").getByRole("button", { name: "Move Design brief to another workspace" }).click();
    const move = a.getByTestId("move-dialog");
    await move.waitFor();
    expect(await accessibilityViolations(a)).toEqual([]);
    expect(await move.getByRole("button", { name: "Move to Design" }).isDisabled()).toBe(true);
    await move.getByRole("button", { name: "Move to My documents" }).click();
    await move.waitFor({ state: "detached" });
    await a.getByTestId("toast").getByText("Moved “Design brief” to My documents.").waitFor();
    await vi.waitFor(async () => expect(await row(a, "Design brief").count()).toBe(0), WAIT);
    await a.getByText("No documents in Design yet.").waitFor();
    expect((await ann.api.get<DocView>(`/api/docs/${docId}`)).body.workspaceId).toBeNull();
    await a.getByTestId("toast").getByRole("button", { name: "Show My documents" }).click();
    await row(a, "Design brief").waitFor();

    // ---- Ben no longer sees it in Design, nor anywhere.
    await b.reload();
    await b.getByRole("heading", { level: 1, name: "Design" }).waitFor();
    await b.getByText("No documents in Design yet.").waitFor();
    expect(await row(b, "Design brief").count()).toBe(0);
    expect((await ben.api.get<ApiPage<DocView>>("/api/docs")).body.items.some((d) => d.id === docId)).toBe(false);

    // ---- From the open document's share dialog, Ann moves it back into Design; Ben has it again.
    await row(a, "Design brief").getByRole("link").click();
    await a.getByTestId("doc-title").filter({ hasText: "Design brief" }).waitFor();
    await a.getByRole("button", { name: "Share" }).click();
    await a.getByRole("button", { name: "Move to another workspace…" }).click();
    await a.getByTestId("move-dialog").getByRole("button", { name: "Move to Design" }).click();
    await a.getByTestId("move-dialog").waitFor({ state: "detached" });
    await a.getByRole("status").filter({ hasText: "Moved to Design." }).waitFor();
    // The share dialog now names the workspace and who reaches the document through it.
    await a.getByText("In the workspace Design.").waitFor();
    await a.getByTestId("share-workspace").getByText("Ben Member").waitFor();
    await a.keyboard.press("Escape");
    expect((await ann.api.get<DocView>(`/api/docs/${docId}`)).body.workspaceId).toBe(workspaceId);
    await vi.waitFor(async () => expect((await ben.api.get<DocView>(`/api/docs/${docId}`)).body.role).toBe("editor"), WAIT);
    // Ben, an editor through the workspace, sees where it is and is offered no move.
    await b.goto(`/d/${docId}`);
    await b.getByTestId("doc-title").filter({ hasText: "Design brief" }).waitFor();
    await b.getByRole("button", { name: "Share" }).click();
    await b.getByText("In the workspace Design.").waitFor();
    expect(await b.getByRole("button", { name: "Move to another workspace…" }).count()).toBe(0);

    expect(unexpectedErrors(A)).toEqual([]);
    expect(unexpectedErrors(B)).toEqual([]);
  });
});
