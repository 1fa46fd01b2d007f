// Sharing in a real browser against the whole running system: the owner invites people from
// the share dialog; a viewer gets a read-only editor that sends nothing; a role change or a
// removal reaches the other person's open page live, without a reload.

import { randomUUID } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import type { EditView, MembersView as Members, Page as ApiPage, VersionView } from "@palimpsest/contracts";
import type { Page } from "playwright-core";
import { artifact, editorOf, markPage, signInAt, stillMarked, textOf, useBrowserSystem, waitForStatus, WAIT } from "./browser-harness.ts";

const env = useBrowserSystem("browser-share");

const shareDialog = (page: Page) => page.getByTestId("share-dialog");
const memberRow = (page: Page, email: string) => shareDialog(page).locator(`[data-user-email="${email}"]`);

async function isEditable(page: Page): Promise<boolean> {
  return (await editorOf(page).getAttribute("contenteditable")) === "true";
}

describe("sharing in the browser", () => {
  it("a viewer cannot change the document, and the share dialog grants and revokes access live", { timeout: 240_000 }, async () => {
    const owner = await env.person("Olivia Owner");
    const guest = await env.person("Victor Guest");
    const doc = await owner.api.createDoc("Shared plans");
    const docPath = `/d/${doc.id}`;
    const storedEdits = async () => (await owner.api.get<ApiPage<EditView>>(`/api/docs/${doc.id}/history?limit=1000`)).body.items;

    // ---- The owner opens the document and writes.
    const O = await env.open("owner");
    const o = O.page;
    await signInAt(o, docPath, owner);
    await editorOf(o).click();
    await o.keyboard.type("Plans written by the owner.");
    await waitForStatus(o, ["saved"]);

    // ---- Share dialog: a bad address is explained, an invitation without an account is pending
    // and can be cancelled, and the guest is added as a viewer.
    await o.getByRole("button", { name: "Share" }).click();
    const dialog = shareDialog(o);
    await dialog.waitFor();
    await memberRow(o, owner.email).getByText("Owner", { exact: true }).waitFor();
    const email = dialog.getByLabel("Email address to share with");
    const role = dialog.getByLabel("Role for the invitation");

    await email.fill("not an address");
    await dialog.getByRole("button", { name: "Invite" }).click();
    await dialog.getByRole("alert").filter({ hasText: "Enter a valid email address" }).waitFor();

    // Your own address is you, not the owner's role to change.
    await email.fill(owner.email.toUpperCase());
    await dialog.getByRole("button", { name: "Invite" }).click();
    await dialog.getByRole("alert").filter({ hasText: "That is your own address: you already have access to this document, as owner." }).waitFor();
    expect(await dialog.getByText("owner's role cannot be changed", { exact: false }).count()).toBe(0);

    const stranger = `later-${randomUUID()}@example.test`;
    await email.fill(stranger);
    await role.selectOption("commenter");
    await dialog.getByRole("button", { name: "Invite" }).click();
    const pending = dialog.locator(`[data-invitation-email="${stranger}"]`);
    await pending.getByText("Pending invitation · commenter").waitFor();
    await pending.getByRole("button", { name: `Cancel the invitation for ${stranger}` }).click();
    await pending.waitFor({ state: "detached" });

    await email.fill(guest.email);
    await role.selectOption("viewer");
    await dialog.getByRole("button", { name: "Invite" }).click();
    const guestRow = memberRow(o, guest.email);
    await guestRow.getByText("Victor Guest").waitFor();
    expect(await guestRow.getByLabel("Role of Victor Guest").inputValue()).toBe("viewer");
    await dialog.getByRole("status").filter({ hasText: "Victor Guest can now open this document as viewer" }).waitFor();
    await o.screenshot({ path: artifact("share-dialog.png") });
    await dialog.getByRole("button", { name: "Done" }).click();
    await dialog.waitFor({ state: "detached" });

    // ---- The guest opens it as a viewer: read-only, badge shown, tools disabled.
    const G = await env.open("guest");
    const g = G.page;
    await signInAt(g, docPath, guest);
    await vi.waitFor(async () => expect(await textOf(g)).toBe("Plans written by the owner."), WAIT);
    await g.getByTestId("readonly-badge").waitFor();
    expect(await isEditable(g)).toBe(false);
    expect(await g.getByRole("button", { name: "Bold" }).isDisabled()).toBe(true);
    await waitForStatus(g, ["online", "saved"]);

    // Typing does nothing, and nothing is sent or stored.
    const editsBefore = (await storedEdits()).length;
    await editorOf(g).click();
    await g.keyboard.type("Viewer was here");
    await g.keyboard.press("Enter");
    await g.keyboard.press("Backspace");
    expect(await textOf(g)).toBe("Plans written by the owner.");
    // The owner writes after that; once the viewer sees it, anything the viewer sent was handled before.
    await editorOf(o).press("End");
    await o.keyboard.type(" More.");
    await vi.waitFor(async () => expect(await textOf(g)).toBe("Plans written by the owner. More."), WAIT);
    await vi.waitFor(async () => expect((await storedEdits()).length).toBeGreaterThan(editsBefore), WAIT);
    expect((await storedEdits()).every((e) => e.userId === owner.auth.user.id)).toBe(true);
    expect(G.sockets.reduce((n, s) => n + s.updatesSent, 0)).toBe(0);
    await g.screenshot({ path: artifact("share-viewer-read-only.png") });

    // A viewer sees who has access, without any way to change it.
    await g.getByRole("button", { name: "Share" }).click();
    await memberRow(g, owner.email).waitFor();
    expect(await shareDialog(g).getByLabel("Email address to share with").count()).toBe(0);
    expect(await shareDialog(g).locator("select").count()).toBe(0);
    expect(await shareDialog(g).getByRole("button", { name: /^Remove/ }).count()).toBe(0);
    await g.keyboard.press("Escape");
    await shareDialog(g).waitFor({ state: "detached" });

    // ---- Granted edit rights live: the guest's open page unlocks, without a reload.
    await markPage(g);
    await o.getByRole("button", { name: "Share" }).click();
    await memberRow(o, guest.email).getByLabel("Role of Victor Guest").selectOption("editor");
    await shareDialog(o).getByRole("status").filter({ hasText: "Victor Guest is now an editor" }).waitFor();
    await vi.waitFor(async () => expect(await isEditable(g)).toBe(true), WAIT);
    await g.getByTestId("readonly-badge").waitFor({ state: "detached" });
    expect(await g.getByRole("button", { name: "Bold" }).isDisabled()).toBe(false);
    await editorOf(g).click();
    await g.keyboard.press("End");
    await g.keyboard.type(" Guest agrees.");
    const agreed = "Plans written by the owner. More. Guest agrees.";
    await vi.waitFor(async () => expect(await textOf(o)).toBe(agreed), WAIT);
    await waitForStatus(g, ["saved"]);
    await vi.waitFor(async () => expect((await storedEdits()).some((e) => e.userId === guest.auth.user.id)).toBe(true), WAIT);

    // ---- Back to viewer, live.
    await memberRow(o, guest.email).getByLabel("Role of Victor Guest").selectOption("viewer");
    await g.getByTestId("readonly-badge").waitFor();
    await vi.waitFor(async () => expect(await isEditable(g)).toBe(false), WAIT);

    // ---- Removed, after a second click that says what it does: the guest's page says so at once, still without a reload.
    await memberRow(o, guest.email).getByRole("button", { name: "Remove Victor Guest" }).click();
    await memberRow(o, guest.email).getByRole("button", { name: "Keep" }).waitFor();
    expect((await owner.api.get<Members>(`/api/docs/${doc.id}/members`)).body.members.some((m) => m.userId === guest.auth.user.id)).toBe(true);
    await memberRow(o, guest.email).getByRole("button", { name: "Remove Victor Guest" }).click();
    await memberRow(o, guest.email).waitFor({ state: "detached" });
    await g.getByRole("heading", { name: "No access" }).waitFor();
    await g.getByText("You no longer have access to this document").waitFor();
    // Said once: not followed by the general "it may have been deleted, or it isn't shared with you".
    expect(await g.getByText("isn't shared with", { exact: false }).count()).toBe(0);
    expect(await stillMarked(g)).toBe(true);
    expect(new URL(g.url()).pathname).toBe(docPath);
    await vi.waitFor(() => expect(G.sockets.every((s) => s.closed)).toBe(true), WAIT);
    await g.screenshot({ path: artifact("share-access-removed.png") });

    // What the guest wrote while an editor is kept; nothing else of theirs was stored.
    const last = (await storedEdits()).at(-1);
    const current = await owner.api.get<VersionView>(`/api/docs/${doc.id}/versions/${last?.seq ?? 0}`);
    expect(current.body.text).toBe(agreed);

    // ---- And undone: the guest is a member again, with the role they had.
    await shareDialog(o).getByRole("status").filter({ hasText: "Victor Guest no longer has access." }).getByRole("button", { name: "Undo" }).click();
    await memberRow(o, guest.email).waitFor();
    await shareDialog(o).getByRole("status").filter({ hasText: "Victor Guest has access again, as viewer." }).waitFor();
    expect((await owner.api.get<Members>(`/api/docs/${doc.id}/members`)).body.members.find((m) => m.userId === guest.auth.user.id)?.role).toBe("viewer");

    expect(O.errors).toEqual([]);
    // The browser logs the refused request for the document (404) after the removal.
    expect(G.errors.filter((e) => !/console: Failed to load resource: the server responded with a status of 40[34]/.test(e))).toEqual([]);
  });

  it("a role changed elsewhere reaches the open page at once, and what a demoted editor typed offline stays on the page, said to be unsaved", async () => {
    const owner = await env.person("Olga Owner");
    const editor = await env.person("Ed Demoted");
    const doc = await owner.api.createDoc("Demotions");
    expect((await owner.api.post(`/api/docs/${doc.id}/members`, { email: editor.email, role: "editor" })).status).toBe(201);
    const E = await env.open("E");
    const e = E.page;
    await signInAt(e, `/d/${doc.id}`, { email: editor.email });
    await waitForStatus(e, ["online", "saved"]);
    await editorOf(e).click();
    await e.keyboard.type("Saved words.");
    await waitForStatus(e, ["saved"]);

    // Made a viewer from the owner's own tools (the API here): the page follows within moments, not at its 30 s look.
    expect((await owner.api.call("PATCH", `/api/docs/${doc.id}/members/${editor.auth.user.id}`, { role: "viewer" })).status).toBe(200);
    await vi.waitFor(async () => expect(await isEditable(e)).toBe(false), { timeout: 5_000, interval: 100 });
    await e.getByTestId("readonly-badge").waitFor();
    // And back.
    expect((await owner.api.call("PATCH", `/api/docs/${doc.id}/members/${editor.auth.user.id}`, { role: "editor" })).status).toBe(200);
    await vi.waitFor(async () => expect(await isEditable(e)).toBe(true), { timeout: 5_000, interval: 100 });

    // Offline, the page cannot hear of a demotion: Ed keeps typing, and is demoted meanwhile.
    await E.context.setOffline(true);
    await waitForStatus(e, ["offline"]);
    await editorOf(e).click();
    await e.keyboard.press("End");
    await e.keyboard.type(" Typed offline.");
    expect((await owner.api.call("PATCH", `/api/docs/${doc.id}/members/${editor.auth.user.id}`, { role: "viewer" })).status).toBe(200);
    await E.context.setOffline(false);
    // Back online the server refuses those words; the page says so and keeps them in view.
    await e.getByTestId("writes-refused").waitFor({ timeout: 15_000 });
    expect(await textOf(e)).toBe("Saved words. Typed offline.");
    expect(await isEditable(e)).toBe(false);
    const stored = await owner.api.get<VersionView>(`/api/docs/${doc.id}/versions/${(await owner.api.get<ApiPage<EditView>>(`/api/docs/${doc.id}/history`)).body.items.at(-1)?.seq ?? 0}`);
    expect(stored.body.text).toBe("Saved words.");
    await e.screenshot({ path: artifact("share-demoted-unsaved.png") });
  });
});
