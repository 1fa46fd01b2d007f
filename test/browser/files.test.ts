// Images in a real browser: an image file dropped into a text document uploads (with a progress
// bar), becomes an image node that references the uploaded file, and appears in every
// collaborator's window, drawn from bytes fetched with their own token; the attachments panel
// lists it; a viewer's drop uploads nothing. On a board, a dropped image (large enough to go to the
// store by presigned URL) becomes an image card at the drop point for everyone.

import { describe, expect, it, vi } from "vitest";
import sharp from "sharp";
import type { Locator, Page } from "playwright-core";
import type { FileView } from "@palimpsest/contracts";
import { connectClient } from "../collab-client.ts";
import { artifact, editorOf, openBoard, openText, share, signIn, useBrowserSystem, waitForStatus, WAIT } from "./browser-harness.ts";

// Small enough that the board's larger image is refused by the streamed route and goes by presigned
// PUT from the browser straight to the store; the text document's small one goes through the service.
const STREAMED_MAX = 32 * 1024;
const env = useBrowserSystem("browser-files", { env: { FILES_MAX_STREAMED_BYTES: String(STREAMED_MAX) } });

/** A real 64×48 PNG: a colour gradient, so it decodes to an image of exactly that size. */
async function gradientPng(width = 64, height = 48): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      raw[i] = Math.round((x / width) * 255);
      raw[i + 1] = Math.round((y / height) * 255);
      raw[i + 2] = 160;
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

interface DropSpec {
  selector: string;
  base64: string;
  name: string;
  type: string;
  x: number;
  y: number;
}

// Page-side globals, typed here: this project's type check has no DOM library.
interface DropGlobals {
  atob(data: string): string;
  File: new (parts: unknown[], name: string, init: { type: string }) => unknown;
  DataTransfer: new () => { items: { add(file: unknown): void } };
  DragEvent: new (type: string, init: Record<string, unknown>) => unknown;
  document: { querySelector(selector: string): { dispatchEvent(event: unknown): boolean } | null };
}

/** Drops a file at a point of the page, as a drag from the desktop ends: a drop event carrying it in a DataTransfer. */
async function dropFile(page: Page, spec: DropSpec): Promise<void> {
  await page.evaluate((s) => {
    const g = globalThis as unknown as DropGlobals;
    const binary = g.atob(s.base64);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    const transfer = new g.DataTransfer();
    transfer.items.add(new g.File([bytes], s.name, { type: s.type }));
    const target = g.document.querySelector(s.selector);
    if (!target) throw new Error(`nothing to drop on: ${s.selector}`);
    for (const type of ["dragenter", "dragover", "drop"]) {
      target.dispatchEvent(new g.DragEvent(type, { dataTransfer: transfer, clientX: s.x, clientY: s.y, bubbles: true, cancelable: true }));
    }
  }, spec);
}

interface ObserverGlobals {
  document: { body: unknown; querySelector(selector: string): unknown };
  MutationObserver: new (callback: () => void) => { observe(target: unknown, init: Record<string, boolean>): void };
  palimpsestSawProgress?: boolean;
}

/** Remembers whether an upload progress bar was ever on the page (an upload of a small file is over quickly). */
async function watchForProgressBar(page: Page): Promise<void> {
  await page.evaluate(() => {
    const g = globalThis as unknown as ObserverGlobals;
    g.palimpsestSawProgress = false;
    new g.MutationObserver(() => {
      if (g.document.querySelector('[data-testid="image-upload"] progress')) g.palimpsestSawProgress = true;
    }).observe(g.document.body, { childList: true, subtree: true });
  });
}

const sawProgressBar = (page: Page): Promise<boolean> => page.evaluate(() => (globalThis as unknown as ObserverGlobals).palimpsestSawProgress === true);

/** The size an <img> decoded to (0×0 until it has loaded), and where its bytes came from. */
function decoded(img: Locator): Promise<{ width: number; height: number; src: string }> {
  return img.evaluate((element) => {
    const e = element as unknown as { naturalWidth: number; naturalHeight: number; currentSrc: string };
    return { width: e.naturalWidth, height: e.naturalHeight, src: e.currentSrc };
  });
}

/** POSTs to a document's file list this page made (uploads of either kind start there). */
function countUploads(page: Page, docId: string): { count: number } {
  const seen = { count: 0 };
  page.on("request", (request) => {
    if (request.method() === "POST" && new URL(request.url()).pathname === `/api/docs/${docId}/files`) seen.count++;
  });
  return seen;
}

describe("images in the browser", () => {
  it("an image dropped into a text document uploads with a progress bar and appears in a collaborator's browser; the attachments panel lists it", { timeout: 240_000 }, async () => {
    const owner = await env.person("Olivia Owner");
    const editor = await env.person("Eddie Editor");
    const viewer = await env.person("Vera Viewer");
    const doc = await owner.api.createDoc("Screenshots");
    await share(owner, doc, editor, "editor");
    await share(owner, doc, viewer, "viewer");
    const png = await gradientPng();

    const A = await env.open("owner");
    const B = await env.open("editor");
    const C = await env.open("viewer");
    const [a, b, c] = [A.page, B.page, C.page];
    await signIn(a, owner);
    await signIn(b, editor);
    await signIn(c, viewer);
    await openText(a, doc);
    await openText(b, doc);
    await openText(c, doc);

    await editorOf(a).click();
    await a.keyboard.type("Before the picture.");
    await waitForStatus(a, ["saved"]);
    await vi.waitFor(async () => expect(await editorOf(b).textContent()).toContain("Before the picture."), WAIT);

    // ---- The viewer's drop uploads nothing: their editor does not take it.
    const viewerUploads = countUploads(c, doc.id);
    const paragraphC = await editorOf(c).locator("p").first().boundingBox();
    if (!paragraphC) throw new Error("the viewer's paragraph is not on screen");
    await dropFile(c, { selector: '[data-testid="editor"] .ProseMirror', base64: png.toString("base64"), name: "viewer.png", type: "image/png", x: paragraphC.x + paragraphC.width - 4, y: paragraphC.y + paragraphC.height / 2 });

    // ---- The owner drops the image at the end of the paragraph.
    const ownerUploads = countUploads(a, doc.id);
    await watchForProgressBar(a);
    const paragraph = await editorOf(a).locator("p").first().boundingBox();
    if (!paragraph) throw new Error("the paragraph is not on screen");
    await dropFile(a, { selector: '[data-testid="editor"] .ProseMirror', base64: png.toString("base64"), name: "chart.png", type: "image/png", x: paragraph.x + paragraph.width - 4, y: paragraph.y + paragraph.height / 2 });

    // It shows in the owner's editor, and then in the editor's, decoded at its real size.
    const imageA = editorOf(a).locator(".file-image[data-file-id] img");
    const imageB = editorOf(b).locator(".file-image[data-file-id] img");
    await vi.waitFor(async () => expect(await decoded(imageA)).toMatchObject({ width: 64, height: 48 }), WAIT);
    expect(await sawProgressBar(a)).toBe(true);
    expect(ownerUploads.count).toBe(1);
    await vi.waitFor(async () => expect(await decoded(imageB)).toMatchObject({ width: 64, height: 48 }), WAIT);
    // The editor's browser fetched the bytes with its own token: the <img> shows an object URL.
    expect((await decoded(imageB)).src).toMatch(/^blob:/);

    // One file is attached: the one the image references.
    const files = (await owner.api.get<{ items: FileView[] }>(`/api/docs/${doc.id}/files`)).body.items;
    expect(files.map((f) => [f.name, f.contentType, f.size, f.uploadedBy, f.via])).toEqual([["chart.png", "image/png", png.length, owner.auth.user.id, "service"]]);
    const fileId = files[0]!.id;
    expect(await editorOf(b).locator(".file-image").getAttribute("data-file-id")).toBe(fileId);
    expect(await editorOf(b).textContent()).toContain("Before the picture.");

    // The shared document stores a stable reference to the file, never a temporary address.
    const client = connectClient(env.system.gatewayUrl(), doc.id, editor.auth.accessToken);
    try {
      await vi.waitFor(() => expect(client.doc.getXmlFragment("default").toString()).toContain(`src="/api/files/${fileId}"`), WAIT);
      expect(client.doc.getXmlFragment("default").toString()).toContain(`fileId="${fileId}"`);
    } finally {
      client.destroy();
    }

    // The viewer sees the image too; their own drop sent nothing and left nothing behind.
    await vi.waitFor(async () => expect(await decoded(editorOf(c).locator(".file-image[data-file-id] img"))).toMatchObject({ width: 64, height: 48 }), WAIT);
    expect(viewerUploads.count).toBe(0);
    expect(await c.locator('[data-testid="image-upload"]').count()).toBe(0);
    expect(await editorOf(c).locator(".file-image").count()).toBe(1);

    // ---- The attachments panel lists the file for the editor, who may delete it; the viewer may not.
    await b.getByRole("button", { name: "Attachments" }).click();
    const rowB = b.getByTestId("attachments-panel").locator(`[data-testid="attachment"][data-file-id="${fileId}"]`);
    await rowB.getByText("chart.png").waitFor();
    await rowB.getByRole("button", { name: "Delete chart.png" }).waitFor();
    // Its thumbnail is made shortly after the upload; the panel picks it up while open.
    await vi.waitFor(async () => expect(await decoded(rowB.locator(".attachment-thumb img"))).toMatchObject({ width: 64, height: 48 }), WAIT);
    await c.getByRole("button", { name: "Attachments" }).click();
    const rowC = c.getByTestId("attachments-panel").locator(`[data-testid="attachment"][data-file-id="${fileId}"]`);
    await rowC.getByText("chart.png").waitFor();
    expect(await rowC.getByRole("button", { name: "Delete chart.png" }).count()).toBe(0);
    await b.screenshot({ path: artifact("files-image-drop.png") });

    // Deleting a file the text shows: the confirmation says so before anything is done.
    await rowB.getByRole("button", { name: "Delete chart.png" }).click();
    const confirm = rowB.getByRole("group", { name: "Delete chart.png?" });
    await confirm.getByRole("alert").filter({ hasText: "This file is shown in the document." }).waitFor();
    await confirm.getByRole("button", { name: "Delete anyway" }).waitFor();
    await b.screenshot({ path: artifact("files-delete-in-use.png") });
    await confirm.getByRole("button", { name: "Keep" }).click();
    await rowB.getByRole("button", { name: "Delete chart.png" }).waitFor();
    expect((await owner.api.get<{ items: FileView[] }>(`/api/docs/${doc.id}/files`)).body.items.map((f) => f.id)).toEqual([fileId]);

    for (const win of [A, B, C]) expect(win.errors).toEqual([]);
  });

  it("a larger image dropped onto a board goes to the store by presigned URL and becomes an image card at the drop point for everyone", { timeout: 180_000 }, async () => {
    const owner = await env.person("Bea Board");
    const editor = await env.person("Eli Editor");
    const doc = await owner.api.createDoc("Moodboard", "board");
    await share(owner, doc, editor, "editor");
    const png = await gradientPng(400, 300);
    expect(png.length).toBeGreaterThan(STREAMED_MAX);

    const A = await env.open("owner");
    const B = await env.open("editor");
    const [a, b] = [A.page, B.page];
    for (const [page, person] of [[a, owner], [b, editor]] as const) {
      await signIn(page, person);
      await openBoard(page, doc);
    }

    const board = await a.getByTestId("board").boundingBox();
    if (!board) throw new Error("the board is not on screen");
    await watchForProgressBar(a);
    // 400, 300 on the board (it starts unscrolled at 100%).
    await dropFile(a, { selector: '[data-testid="board"]', base64: png.toString("base64"), name: "swatch.png", type: "image/png", x: board.x + 400, y: board.y + 300 });

    const cardB = b.locator('[data-kind="image"]');
    await vi.waitFor(async () => expect(await decoded(cardB.locator("img[data-file-id]"))).toMatchObject({ width: 400, height: 300 }), WAIT);
    expect(await sawProgressBar(a)).toBe(true);
    const files = (await editor.api.get<{ items: FileView[] }>(`/api/docs/${doc.id}/files`)).body.items;
    expect(files.map((f) => [f.name, f.size, f.via])).toEqual([["swatch.png", png.length, "presigned"]]);
    expect(await cardB.locator("img").getAttribute("data-file-id")).toBe(files[0]!.id);
    // Centred on the drop point horizontally, its top just above it.
    const at = async (name: string): Promise<number> => Number(await cardB.getAttribute(name));
    expect((await at("data-x")) + (await at("data-w")) / 2).toBe(400);
    expect(await at("data-y")).toBe(300 - 16);
    await waitForStatus(a, ["saved"]);
    await a.screenshot({ path: artifact("files-board-drop.png") });

    // The browser logs the one refused request: the try through the service, before the presigned upload.
    expect(A.errors).toEqual(["[owner] console: Failed to load resource: the server responded with a status of 413 (Payload Too Large)"]);
    expect(B.errors).toEqual([]);
  });

  it("any file can be attached: from a button in the attachments panel (so keyboard and touch users can), and by a drop into the text, which says where it went", async () => {
    const ada = await env.person("Ada Attacher");
    const doc = await ada.api.createDoc("With a report");
    const A = await env.open("attacher");
    const a = A.page;
    await signIn(a, ada);
    await openText(a, doc);
    await a.getByRole("button", { name: "Attachments" }).click();
    const panel = a.getByTestId("attachments-panel");
    await panel.getByText("No files yet.", { exact: false }).waitFor();

    // By keyboard: the button is focused and pressed, and the system's file chooser opens.
    const pdf = Buffer.from("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");
    const button = panel.getByRole("button", { name: "Attach files…" });
    const [chooser] = await Promise.all([a.waitForEvent("filechooser"), button.press("Enter")]);
    await chooser.setFiles({ name: "report.pdf", mimeType: "application/pdf", buffer: pdf });

    const row = panel.locator('[data-testid="attachment"]').filter({ hasText: "report.pdf" });
    await row.waitFor();
    const files = (await ada.api.get<{ items: FileView[] }>(`/api/docs/${doc.id}/files`)).body.items;
    expect(files.map((f) => [f.name, f.contentType, f.size])).toEqual([["report.pdf", "application/pdf", pdf.length]]);
    await a.keyboard.press("Escape");

    // A PDF dropped into the text is attached, and the text says so where it was dropped.
    const paragraph = await editorOf(a).boundingBox();
    if (!paragraph) throw new Error("the editor is not on screen");
    await dropFile(a, { selector: '[data-testid="editor"] .ProseMirror', base64: pdf.toString("base64"), name: "minutes.pdf", type: "application/pdf", x: paragraph.x + 20, y: paragraph.y + 20 });
    await editorOf(a).getByRole("status").filter({ hasText: "minutes.pdf is attached: it is listed under Attachments." }).waitFor();
    await vi.waitFor(async () => expect((await ada.api.get<{ items: FileView[] }>(`/api/docs/${doc.id}/files`)).body.items.map((f) => f.name).sort()).toEqual(["minutes.pdf", "report.pdf"]), WAIT);
    expect(await editorOf(a).locator(".file-image").count()).toBe(0);

    // A file the document does not show is deleted after a plain confirmation.
    await a.getByRole("button", { name: "Attachments" }).click();
    await panel.getByRole("button", { name: "Delete report.pdf" }).click();
    const confirm = panel.getByRole("group", { name: "Delete report.pdf?" });
    expect(await confirm.getByRole("alert").count()).toBe(0);
    await confirm.getByRole("button", { name: "Delete", exact: true }).click();
    await panel.locator('[data-testid="attachment"]').filter({ hasText: "report.pdf" }).waitFor({ state: "detached" });
    expect((await ada.api.get<{ items: FileView[] }>(`/api/docs/${doc.id}/files`)).body.items.map((f) => f.name)).toEqual(["minutes.pdf"]);
    expect(A.errors).toEqual([]);
  });

  it("the board's Image button uploads a picture from the device, by keyboard or touch, and it becomes an image card in view for everyone", async () => {
    const owner = await env.person("Ivy Image");
    const editor = await env.person("Ian Looker");
    const doc = await owner.api.createDoc("Pictures", "board");
    await share(owner, doc, editor, "editor");
    const A = await env.open("owner");
    const B = await env.open("editor");
    const [a, b] = [A.page, B.page];
    for (const [page, person] of [[a, owner], [b, editor]] as const) {
      await signIn(page, person);
      await openBoard(page, doc);
    }
    const png = await gradientPng(120, 80);
    await a.getByRole("button", { name: "Add image" }).press("Enter");
    const form = a.getByRole("form", { name: "Add an image" });
    const upload = form.getByRole("button", { name: "Upload from this device…" });
    await upload.focus();
    const [chooser] = await Promise.all([a.waitForEvent("filechooser"), upload.press("Enter")]);
    expect(chooser.isMultiple()).toBe(true);
    await chooser.setFiles({ name: "sketch.png", mimeType: "image/png", buffer: png });
    await form.waitFor({ state: "detached" });

    const cardB = b.locator('[data-kind="image"]');
    await vi.waitFor(async () => expect(await decoded(cardB.locator("img[data-file-id]"))).toMatchObject({ width: 120, height: 80 }), WAIT);
    const files = (await editor.api.get<{ items: FileView[] }>(`/api/docs/${doc.id}/files`)).body.items;
    expect(files.map((f) => f.name)).toEqual(["sketch.png"]);
    // Placed in the middle of what the owner sees.
    const card = await a.locator('[data-kind="image"]').boundingBox();
    const view = await a.getByTestId("board").boundingBox();
    if (!card || !view) throw new Error("not on screen");
    expect(card.x).toBeGreaterThanOrEqual(view.x);
    expect(card.x + card.width).toBeLessThanOrEqual(view.x + view.width);

    // Something that is not a picture is refused, with the way to attach it instead.
    await a.getByRole("button", { name: "Add image" }).click();
    const [again] = await Promise.all([a.waitForEvent("filechooser"), a.getByRole("button", { name: "Upload from this device…" }).click()]);
    await again.setFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello") });
    await a.getByRole("alert").filter({ hasText: "notes.txt is not a picture" }).waitFor();
    await a.screenshot({ path: artifact("files-board-image-button.png") });
    for (const win of [A, B]) expect(win.errors).toEqual([]);
  });
});
