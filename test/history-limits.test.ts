import { describe, expect, it, vi } from "vitest";
import * as Y from "yjs";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { DocFields, editMessageId, rpc, subjects, writeEditHeaders, type AuthResult, type EditView, type Page } from "@palimpsest/contracts";
import { callRpc } from "@palimpsest/platform";
import type { TestApi } from "@palimpsest/devkit";
import { useSystem } from "./system.ts";

/**
 * Costly history reads are bounded: a diff over too many versions is refused up front, a diff
 * whose caller has stopped waiting stops, and one member cannot run many audit exports at once.
 */
const sys = useSystem("history-limits", { env: { AUDIT_EXPORTS_PER_USER: "1" } });
const patience = { timeout: 60_000, interval: 250 };

/** A document with `n` versions, stored straight into the stream as the sync service stores them. */
async function docWithVersions(n: number, perEdit = "0123456789"): Promise<{ api: TestApi; auth: AuthResult; docId: string }> {
  const { api, auth } = await sys.anon.newUser("Writer");
  const doc = await api.createDoc("Many versions");
  const js = jetstream(sys.nc);
  const y = new Y.Doc();
  const text = y.getText(DocFields.plainText);
  const updates: Uint8Array[] = [];
  y.on("update", (u: Uint8Array) => updates.push(u));
  for (let i = 0; i < n; i++) text.insert(text.length, perEdit);
  const inFlight = new Set<Promise<unknown>>();
  for (const u of updates) {
    const h = natsHeaders();
    writeEditHeaders(h, { author: auth.user.id, client: "limits-test", replica: "test" });
    const p = js.publish(subjects.edits(doc.id), u, { msgID: editMessageId(doc.id, u), headers: h, timeout: 30_000 });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => undefined);
    if (inFlight.size >= 256) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  await vi.waitFor(async () => {
    const h = await api.get<Page<EditView>>(`/api/docs/${doc.id}/history?after=${n - 1}&limit=1`);
    expect(h.body.items[0]?.seq).toBe(n);
  }, patience);
  return { api, auth, docId: doc.id };
}

async function metric(name: string, labels: string): Promise<number> {
  const [history] = sys.system.byName("history");
  const text = await (await fetch(`http://127.0.0.1:${history!.port}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

describe("history reads are bounded", () => {
  it("refuses a diff over more versions than allowed with DIFF_TOO_LARGE, at once, instead of rendering each one", async () => {
    const { api, docId } = await docWithVersions(2_500);
    const started = performance.now();
    const res = await api.get<{ error: { code: string } }>(`/api/docs/${docId}/diff?from=0&to=2500`);
    const ms = performance.now() - started;
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("DIFF_TOO_LARGE");
    expect(ms).toBeLessThan(1_000);
    // A range inside the bound is still answered, with its authors.
    const ok = await api.get<{ authors: string[] }>(`/api/docs/${docId}/diff?from=2400&to=2500`);
    expect(ok.status).toBe(200);
    expect(ok.body.authors.length).toBe(1);
  }, 120_000);

  it("stops a diff once its caller has stopped waiting", async () => {
    const { auth, docId } = await docWithVersions(2_000, "x".repeat(20));
    const before = await metric("rpc_abandoned_total", `subject="${rpc.history.diff}"`);
    // The caller gives up after 50 ms; walking 2,000 versions takes far longer.
    // The caller's own timer and the handler's TIMEOUT answer (sent once the deadline passed) race:
    // on a busy machine the answer can be read first. Either way the caller learns TIMEOUT.
    const outcome = await callRpc(sys.nc, rpc.history.diff, { requestId: "limits-abandoned", token: auth.accessToken, input: { id: docId, from: 0, to: 2_000 } }, 50).then(
      (reply) => reply,
      (err: unknown) => ({ ok: false, error: { code: (err as { code?: string }).code } }),
    );
    expect(outcome).toMatchObject({ ok: false, error: { code: "TIMEOUT" } });
    await vi.waitFor(async () => expect(await metric("rpc_abandoned_total", `subject="${rpc.history.diff}"`)).toBe(before + 1), patience);
    // The handler gave up with TIMEOUT rather than finishing the walk for nobody.
    expect(await metric("rpc_handler_duration_seconds_count", `outcome="TIMEOUT"`)).toBeGreaterThan(0);
  }, 120_000);

  it("answers 429 with Retry-After to a member running more audit exports at once than allowed", async () => {
    const { auth, docId } = await docWithVersions(3_000);
    const exportOnce = async () => {
      const res = await fetch(`${sys.system.gatewayUrl()}/api/docs/${docId}/audit`, { headers: { authorization: `Bearer ${auth.accessToken}` } });
      const body = await res.text();
      return { status: res.status, retryAfter: res.headers.get("retry-after"), body };
    };
    const results = await Promise.all(Array.from({ length: 6 }, exportOnce));
    const statuses = results.map((r) => r.status);
    expect(statuses).toContain(200);
    expect(statuses).toContain(429);
    for (const r of results.filter((x) => x.status === 429)) {
      expect(Number(r.retryAfter)).toBeGreaterThan(0);
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: "RATE_LIMITED" } });
    }
    // Once the running exports are done, the member exports again.
    const again = await exportOnce();
    expect(again.status).toBe(200);
  }, 120_000);
});
