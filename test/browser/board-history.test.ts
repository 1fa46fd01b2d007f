// A board's history in a real browser against the whole running system: two people change cards,
// the owner opens the history, sees the board as it was at a named version, what changed since
// card by card with who did it, and restores it; the other person's client gets the board back.

import { describe, expect, it, vi } from "vitest";
import * as Y from "yjs";
import type { EditView, Page as ApiPage, VersionView } from "@palimpsest/contracts";
import { connectClient } from "../collab-client.ts";
import { artifact, openBoard, share, signIn, useBrowserSystem, WAIT } from "./browser-harness.ts";

const env = useBrowserSystem("browser-board-history");

function card(fields: Record<string, unknown>): Y.Map<unknown> {
  const m = new Y.Map<unknown>();
  for (const [k, v] of Object.entries(fields)) {
    if (k === "text") {
      const t = new Y.Text();
      t.insert(0, v as string);
      m.set(k, t);
    } else m.set(k, v);
  }
  return m;
}

describe("a board's history in the browser", () => {
  it("shows the board at a named version, what changed since card by card with its authors, and restores it for everyone", { timeout: 180_000 }, async () => {
    const ann = await env.person("Ann Board");
    const ben = await env.person("Ben Cards");
    const doc = await ann.api.createDoc("Launch board", "board");
    await share(ann, doc, ben, "editor");
    const annClient = connectClient(env.system.gatewayUrl(), doc.id, ann.auth.accessToken);
    const benClient = connectClient(env.system.gatewayUrl(), doc.id, ben.auth.accessToken);
    await vi.waitFor(() => expect(annClient.provider.synced && benClient.provider.synced).toBe(true), WAIT);
    const annBoard = annClient.doc.getMap("board");
    const benBoard = benClient.doc.getMap("board");
    annBoard.set("plan", card({ kind: "note", text: "Plan", x: 40, y: 40, w: 200, h: 160, z: 1, color: "yellow" }));
    benBoard.set("ship", card({ kind: "task", text: "Ship", done: false, x: 40, y: 260, w: 240, h: 84, z: 2 }));
    await vi.waitFor(() => expect([...annBoard.keys()].sort()).toEqual(["plan", "ship"]), WAIT);
    // Once both cards are stored, name that version.
    let both = 0;
    await vi.waitFor(async () => {
      const edits = (await ann.api.get<ApiPage<EditView>>(`/api/docs/${doc.id}/history?limit=1000`)).body.items;
      both = edits.at(-1)?.seq ?? 0;
      expect(Object.keys((await ann.api.get<VersionView>(`/api/docs/${doc.id}/versions/${both}`)).body.board as object).sort()).toEqual(["plan", "ship"]);
    }, WAIT);
    expect((await ann.api.post(`/api/docs/${doc.id}/versions`, { name: "Before cleanup", seq: both })).status).toBe(201);

    // Then Ann moves and rewrites her note, and Ben deletes his task.
    annClient.doc.transact(() => {
      const plan = annBoard.get("plan") as Y.Map<unknown>;
      plan.set("x", 420);
      (plan.get("text") as Y.Text).insert(4, " B");
    });
    await vi.waitFor(() => expect(((benBoard.get("plan") as Y.Map<unknown>).get("text") as Y.Text).toString()).toBe("Plan B"), WAIT);
    benBoard.delete("ship");
    await vi.waitFor(() => expect([...annBoard.keys()]).toEqual(["plan"]), WAIT);

    const A = await env.open("ann");
    const a = A.page;
    await signIn(a, ann);
    await openBoard(a, doc);
    await a.getByRole("button", { name: "History" }).click();
    const panel = a.getByTestId("history-panel");
    await panel.waitFor();
    // The current version: one card.
    await vi.waitFor(async () => expect(await a.getByTestId("board-version").locator("li").allTextContents()).toEqual(["A note “Plan B”"]), WAIT);
    // The named version: both cards as they were.
    await a.getByTestId("named-versions").getByRole("button", { name: /Before cleanup/ }).click();
    await vi.waitFor(async () => expect(await a.getByTestId("board-version").locator("li").allTextContents()).toEqual(["A note “Plan”", "A task “Ship”"]), WAIT);
    await a.screenshot({ path: artifact("board-history-version.png") });

    // What changed since, card by card, with who did it.
    await a.getByLabel("Show changes").check();
    const changes = a.getByRole("list", { name: "What changed on the board" });
    await vi.waitFor(async () => {
      expect(await changes.locator("li").allTextContents()).toEqual(["Ann Board moved and rewrote a note “Plan B” (was “Plan”)", "Ben Cards deleted a task “Ship”"]);
    }, WAIT);
    await a.screenshot({ path: artifact("board-history-diff.png") });
    await a.getByLabel("Show changes").uncheck();

    // Restore it: the board is as it was, for Ben too; the restore is one more version.
    await a.getByRole("button", { name: "Restore this version" }).click();
    await a.getByRole("group", { name: "Confirm restore" }).getByRole("button", { name: "Restore", exact: true }).click();
    await panel.waitFor({ state: "detached" });
    await a.getByRole("status").filter({ hasText: "Restored the board" }).waitFor();
    await vi.waitFor(() => {
      expect([...benBoard.keys()].sort()).toEqual(["plan", "ship"]);
      const plan = benBoard.get("plan") as Y.Map<unknown>;
      expect([(plan.get("text") as Y.Text).toString(), plan.get("x")]).toEqual(["Plan", 40]);
    }, WAIT);
    await vi.waitFor(async () => expect(await a.locator("[data-card-id]").count()).toBe(2), WAIT);
    annClient.destroy();
    benClient.destroy();
    expect(A.errors).toEqual([]);
  });
});
