// A restore undoes everything stored before it was asked for, even what history's edit log has
// not written yet: it is computed against the stream, not against the read model.

import { describe, expect, it, vi } from "vitest";
import type { EditView, Page, RestoreResult } from "@palimpsest/contracts";
import type { TestApi } from "@palimpsest/devkit";
import { useSystem } from "./system.ts";
import { storedEdits } from "./stream-helpers.ts";

// The edit log writes what it gathered every 4 s: long enough to restore inside the lag every time.
const ctx = useSystem("restore-lag", { env: { EDIT_LOG_FLUSH_MS: "4000" } });

async function head(api: TestApi, docId: string): Promise<number> {
  const h = await api.get<Page<EditView>>(`/api/docs/${docId}/history?limit=1000`);
  return h.body.items.at(-1)?.seq ?? 0;
}

describe("restoring while the edit log lags the stream", () => {
  it("given an edit stored but not yet in the edit log, when an earlier version is restored, then the edit is undone too", async () => {
    const { api, auth } = await ctx.anon.newUser("Owner");
    const doc = await api.createDoc("Lagging");
    const c = ctx.client(doc.id, auth.accessToken);
    await vi.waitFor(() => expect(c.provider.synced).toBe(true));
    c.doc.getText("t").insert(0, "Original. ");
    await vi.waitFor(async () => expect(await head(api, doc.id)).toBe(1), { timeout: 15_000, interval: 200 });

    // An edit everyone sees (it is stored) that history lists only after its next flush
    c.doc.getText("t").insert(10, "Added while history lags.");
    await vi.waitFor(async () => expect(await storedEdits(ctx.jsm, doc.id)).toBe(2), { interval: 20 });
    expect(await head(api, doc.id)).toBe(1);

    // When version 1 is restored
    const res = await api.post<RestoreResult>(`/api/docs/${doc.id}/restore`, { seq: 1 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ restoredFrom: 1, changed: true });

    // Then the document is version 1 again, for everyone
    await vi.waitFor(() => expect(c.text()).toBe("Original. "), { timeout: 10_000 });
  });
});
