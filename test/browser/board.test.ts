// Boards in a real browser: two people on one board, each in their own browser context, add,
// move, resize, tick and delete cards and see each other's changes and pointers live; a
// viewer can look but not change; and cards written by another Yjs client in the simplest
// shape ({ kind, text }) show up and become movable.

import { describe, expect, it, vi } from "vitest";
import type { Locator, Page } from "playwright-core";
import * as Y from "yjs";
import { connectClient } from "../collab-client.ts";
import { artifact, openBoard, share, signIn, twoEditors, unexpectedErrors, useBrowserSystem, waitForStatus, WAIT } from "./browser-harness.ts";

const env = useBrowserSystem("browser-board");

const cards = (page: Page): Locator => page.locator("[data-card-id]");

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

async function boxOf(card: Locator): Promise<Box> {
  const [x, y, w, h] = await Promise.all(["data-x", "data-y", "data-w", "data-h"].map((name) => card.getAttribute(name)));
  return { x: Number(x), y: Number(y), w: Number(w), h: Number(h) };
}

/** Drags with the mouse from the middle of `handle` by (dx, dy) screen pixels. */
async function drag(page: Page, handle: Locator, dx: number, dy: number, opts: { release?: boolean } = {}): Promise<void> {
  const box = await handle.boundingBox();
  if (!box) throw new Error("nothing to drag: the handle is not on screen");
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + dx, y + dy, { steps: 12 });
  if (opts.release ?? true) await page.mouse.up();
}

describe("boards in a real browser", () => {
  it("two people add, move, resize, tick and delete cards, and see each other's pointers, live", async () => {
    const { editor: bob, doc, A, B } = await twoEditors(env, ["Ada Lovelace", "Bob Babbage"], "Launch plan", "board");
    const a = A.page;
    const b = B.page;
    await a.getByText("This board is empty.", { exact: false }).waitFor();

    // ---- A adds a note and writes in it; B sees the card and the words.
    await a.getByRole("button", { name: "Add note" }).click();
    await expect.poll(() => cards(a).count(), WAIT).toBe(1);
    const noteId = await cards(a).first().getAttribute("data-card-id");
    if (!noteId) throw new Error("the new card has no id");
    const noteA = a.locator(`[data-card-id="${noteId}"]`);
    const noteB = b.locator(`[data-card-id="${noteId}"]`);
    // The new note takes the keyboard at once.
    await noteA.locator("textarea:focus").waitFor();
    await a.keyboard.type("Plan the launch");
    await vi.waitFor(async () => expect(await noteB.locator("textarea").inputValue()).toBe("Plan the launch"), WAIT);
    expect(await noteB.getAttribute("data-kind")).toBe("note");

    // ---- A drags the note by its grip; while the button is down B already sees it travel.
    const before = await boxOf(noteA);
    await drag(a, noteA.getByTestId("card-grip"), 150, 90, { release: false });
    await vi.waitFor(async () => {
      const live = await boxOf(noteB);
      expect(live.x).toBe(before.x + 150);
      expect(live.y).toBe(before.y + 90);
    }, WAIT);
    await a.mouse.up();
    const dropped = await boxOf(noteA);
    expect(dropped).toEqual({ ...before, x: before.x + 150, y: before.y + 90 });
    // Both windows agree on where it landed, once the drop is stored and sent.
    await vi.waitFor(async () => expect(await boxOf(noteB)).toEqual(dropped), WAIT);

    // ---- B resizes it by the corner handle; A sees the new size (its place unchanged).
    await noteB.hover();
    await drag(b, noteB.locator("[data-handle='resize']"), 80, 50);
    const resized = await boxOf(noteB);
    expect(resized.w).toBe(dropped.w + 80);
    expect(resized.h).toBe(dropped.h + 50);
    await vi.waitFor(async () => expect(await boxOf(noteA)).toEqual({ ...dropped, w: resized.w, h: resized.h }), WAIT);

    // ---- At the same moment, A moves the note and B edits its words: both changes stay.
    await noteB.locator("textarea").click();
    await b.keyboard.press("End");
    await Promise.all([b.keyboard.type(" on Monday"), drag(a, noteA.getByTestId("card-grip"), -60, 40)]);
    const moved = await boxOf(noteA);
    await vi.waitFor(async () => {
      expect(await noteA.locator("textarea").inputValue()).toBe("Plan the launch on Monday");
      expect(await boxOf(noteB)).toEqual(moved);
    }, WAIT);

    // ---- B adds a task; A ticks it; B sees it ticked.
    await b.getByRole("button", { name: "Add task" }).click();
    await b.locator("[data-kind='task'] textarea:focus").waitFor();
    await b.keyboard.type("Book the hall");
    await vi.waitFor(async () => expect(await a.locator("[data-kind='task'] textarea").inputValue()).toBe("Book the hall"), WAIT);
    await a.locator("[data-kind='task'] input[type='checkbox']").check();
    await vi.waitFor(async () => expect(await b.locator("[data-kind='task'] input[type='checkbox']").isChecked()).toBe(true), WAIT);

    // ---- B adds a link and an image by their addresses; A sees both.
    await b.getByRole("button", { name: "Add link" }).click();
    await b.getByLabel("Link address").fill("https://example.com/tickets");
    await b.getByLabel("Title (optional)").fill("Tickets");
    await b.getByRole("button", { name: "Add link" }).last().click();
    const imageUrl = `${env.system.gatewayUrl()}/favicon.svg`;
    await b.getByRole("button", { name: "Add image" }).click();
    await b.getByLabel("Image address").fill(imageUrl);
    await b.getByRole("button", { name: "Add image" }).last().click();
    const linkA = a.locator("[data-kind='link']");
    await linkA.waitFor();
    expect(await linkA.locator("a").getAttribute("href")).toBe("https://example.com/tickets");
    await vi.waitFor(async () => expect(await linkA.locator("textarea").inputValue()).toBe("Tickets"), WAIT);
    await a.locator(`[data-kind='image'] img[src='${imageUrl}']`).waitFor();
    // A bad address is refused in the form rather than stored.
    await b.getByRole("button", { name: "Add link" }).click();
    await b.getByLabel("Link address").fill("javascript:alert(1)");
    await b.getByRole("button", { name: "Add link" }).last().click();
    await b.getByText("Enter a web address starting with http:// or https://").waitFor();
    await b.keyboard.press("Escape");

    // ---- B's pointer shows on A's board, with B's name; it follows B's mouse.
    const boardB = await b.getByTestId("board").boundingBox();
    if (!boardB) throw new Error("B's board is not on screen");
    await b.mouse.move(boardB.x + 600, boardB.y + 420, { steps: 4 });
    const pointer = a.locator("[data-testid='peer-pointer'][data-name='Bob Babbage']");
    await pointer.waitFor();
    await b.mouse.move(boardB.x + 700, boardB.y + 460, { steps: 4 });
    await vi.waitFor(async () => expect(await pointer.getAttribute("style")).toContain("translate(700px, 460px)"), WAIT);

    // ---- A deletes the task from the keyboard (it is under the others now); B sees it go.
    await a.locator("[data-kind='task']").focus();
    await a.keyboard.press("Delete");
    await vi.waitFor(async () => expect(await b.locator("[data-kind='task']").count()).toBe(0), WAIT);
    expect(await cards(b).count()).toBe(3);
    // Undo brings it back for everyone (with its tick), redo takes it away again.
    await a.keyboard.press("Control+z");
    await vi.waitFor(async () => expect(await b.locator("[data-kind='task'] input[type='checkbox']").isChecked()).toBe(true), WAIT);
    await a.keyboard.press("Control+Shift+z");
    await vi.waitFor(async () => expect(await b.locator("[data-kind='task']").count()).toBe(0), WAIT);

    // ---- Everything is stored: both say saved, and a fresh window shows the same board.
    await vi.waitFor(async () => {
      expect(await a.getByTestId("status").textContent()).toBe("saved");
      expect(await b.getByTestId("status").textContent()).toBe("saved");
    }, WAIT);
    // Spread the cards out for the picture (more drags, through the same path).
    await drag(a, a.locator("[data-kind='image']").getByTestId("card-grip"), 330, -190);
    await drag(a, a.locator("[data-kind='link']").getByTestId("card-grip"), -360, -120);
    await b.mouse.move(boardB.x + 520, boardB.y + 380, { steps: 4 });
    await waitForStatus(a, ["saved"]);
    await a.screenshot({ path: artifact("board.png") });
    const C = await env.open("C");
    await signIn(C.page, bob);
    await openBoard(C.page, doc);
    await expect.poll(() => cards(C.page).count(), WAIT).toBe(3);
    expect(await boxOf(C.page.locator(`[data-card-id="${noteId}"]`))).toEqual(await boxOf(noteA));

    for (const win of [A, B, C]) expect(unexpectedErrors(win)).toEqual([]);
  });

  it("a viewer sees the board live but cannot change it", async () => {
    const ada = await env.person("Ada Owner");
    const vera = await env.person("Vera Viewer");
    const doc = await ada.api.createDoc("Read-only board", "board");
    await share(ada, doc, vera, "viewer");

    const A = await env.open("owner");
    const V = await env.open("viewer");
    await signIn(A.page, ada);
    await signIn(V.page, vera);
    await openBoard(A.page, doc);
    await openBoard(V.page, doc);

    await A.page.getByRole("button", { name: "Add note" }).click();
    await A.page.locator("[data-kind='note'] textarea:focus").waitFor();
    await A.page.keyboard.type("Only the owner writes here");
    const note = V.page.locator("[data-kind='note']");
    await vi.waitFor(async () => expect(await note.locator("textarea").inputValue()).toBe("Only the owner writes here"), WAIT);

    // No tools, a read-only text, and dragging does nothing.
    expect(await V.page.getByRole("button", { name: "Add note" }).count()).toBe(0);
    expect(await note.locator("textarea").getAttribute("readonly")).not.toBeNull();
    expect(await note.locator("[data-handle='resize']").count()).toBe(0);
    const before = await boxOf(note);
    await drag(V.page, note.getByTestId("card-grip"), 120, 80);
    expect(await boxOf(note)).toEqual(before);
    expect(await boxOf(A.page.locator("[data-kind='note']"))).toEqual(before);
    expect(unexpectedErrors(V)).toEqual([]);
  });

  it("a card someone else dropped is drawn where the document has it, whichever arrives first: the drop or the end of their drag", async () => {
    const ada = await env.person("Ada Watching");
    const doc = await ada.api.createDoc("Settling board", "board");
    // Another person's client, scripted: its presence says what it drags, its edits say where it
    // dropped. A second client watches what the server has sent out, to order the two.
    const other = connectClient(env.system.gatewayUrl(), doc.id, ada.auth.accessToken);
    const watcher = connectClient(env.system.gatewayUrl(), doc.id, ada.auth.accessToken);
    try {
      await vi.waitFor(() => expect(other.provider.synced && watcher.provider.synced).toBe(true), WAIT);
      const board = other.doc.getMap("board");
      board.set("card-1", { kind: "note", text: "first" });
      board.set("card-2", { kind: "note", text: "second" });
      other.provider.awareness.setLocalStateField("user", { name: "Scripted Sam", color: "#2f6f4f" });

      const A = await env.open("A");
      await signIn(A.page, ada);
      await openBoard(A.page, doc);
      const dragOf = (): unknown => {
        const state = watcher.provider.awareness.getStates().get(other.doc.clientID) as { board?: { drag?: unknown } } | undefined;
        return state?.board?.drag ?? null;
      };
      for (const [id, order] of [["card-1", "drop first"], ["card-2", "drag end first"]] as const) {
        const card = A.page.locator(`[data-card-id='${id}']`);
        await card.waitFor();
        const start = await boxOf(card);
        // The last step of the drag others saw (presence is throttled), and where it really ended.
        const seen = { ...start, x: start.x + 40, y: start.y + 40 };
        const final = { ...start, x: start.x + 60, y: start.y + 70 };
        other.provider.awareness.setLocalStateField("board", { pointer: null, drag: { id, ...seen }, selected: null });
        await vi.waitFor(async () => expect(await boxOf(card)).toEqual(seen), WAIT);
        const drop = async (): Promise<void> => {
          board.set(id, { kind: "note", text: id === "card-1" ? "first" : "second", ...final });
          await vi.waitFor(() => expect((watcher.doc.getMap("board").get(id) as { x?: number } | undefined)?.x).toBe(final.x), WAIT);
        };
        const endDrag = async (): Promise<void> => {
          other.provider.awareness.setLocalStateField("board", { pointer: null, drag: null, selected: null });
          await vi.waitFor(() => expect(dragOf()).toBeNull(), WAIT);
        };
        if (order === "drop first") {
          await drop();
          await endDrag();
        } else {
          await endDrag();
          await drop();
        }
        // Well inside the 2 s a dropped card may wait for its document: it must not wait once it is there.
        await vi.waitFor(async () => expect(await boxOf(card), order).toEqual(final), { timeout: 1_200, interval: 50 });
      }
      expect(unexpectedErrors(A)).toEqual([]);
    } finally {
      other.destroy();
      watcher.destroy();
    }
  });

  it("shows cards another client wrote as plain objects, and turns them into live cards when moved", async () => {
    const ada = await env.person("Ada Scripted");
    const doc = await ada.api.createDoc("Scripted board", "board");
    // A script (an unmodified y-websocket client) adds a card in the simplest shape.
    const script = connectClient(env.system.gatewayUrl(), doc.id, ada.auth.accessToken);
    try {
      await vi.waitFor(() => expect(script.provider.synced).toBe(true), WAIT);
      script.doc.getMap("board").set("card-1", { kind: "note", text: "hello from a script" });

      const A = await env.open("A");
      await signIn(A.page, ada);
      await openBoard(A.page, doc);
      const card = A.page.locator("[data-card-id='card-1']");
      await vi.waitFor(async () => expect(await card.locator("textarea").inputValue()).toBe("hello from a script"), WAIT);
      const before = await boxOf(card);
      await drag(A.page, card.getByTestId("card-grip"), 100, 60);

      // The script sees a card it can read field by field, where the browser dropped it.
      await vi.waitFor(() => {
        const stored = script.doc.getMap("board").get("card-1");
        expect(stored).toBeInstanceOf(Y.Map);
        const map = stored as Y.Map<unknown>;
        expect(map.get("x")).toBe(before.x + 100);
        expect(map.get("y")).toBe(before.y + 60);
        expect(String(map.get("text"))).toBe("hello from a script");
        expect(map.get("kind")).toBe("note");
      }, WAIT);
      expect(unexpectedErrors(A)).toEqual([]);
    } finally {
      script.destroy();
    }
  });

  it("cards added from the toolbar one after another sit side by side in view, not on top of each other", async () => {
    const ada = await env.person("Ada Placer");
    const doc = await ada.api.createDoc("Placed board", "board");
    const A = await env.open("placer");
    await signIn(A.page, ada);
    await openBoard(A.page, doc);
    const a = A.page;
    const kinds = ["note", "note", "task", "note", "task", "note"] as const;
    for (const [i, kind] of kinds.entries()) {
      await a.getByRole("button", { name: `Add ${kind}` }).click();
      await expect.poll(() => cards(a).count(), WAIT).toBe(i + 1);
    }
    const boxes = await Promise.all((await cards(a).all()).map(boxOf));
    for (const [i, p] of boxes.entries()) {
      for (const q of boxes.slice(i + 1)) {
        const overlap = p.x < q.x + q.w && q.x < p.x + p.w && p.y < q.y + q.h && q.y < p.y + p.h;
        expect(overlap, `cards at ${JSON.stringify(p)} and ${JSON.stringify(q)} overlap`).toBe(false);
      }
    }
    // All of them where the person can see them.
    const view = await a.getByTestId("board").boundingBox();
    if (!view) throw new Error("the board is not on screen");
    for (const card of await cards(a).all()) {
      const box = await card.boundingBox();
      expect(box && box.x >= view.x && box.y >= view.y && box.x + box.width <= view.x + view.width && box.y + box.height <= view.y + view.height).toBe(true);
    }
    await a.screenshot({ path: artifact("board-cards-placed.png") });
    expect(unexpectedErrors(A)).toEqual([]);
  });
});
