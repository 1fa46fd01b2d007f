import fs from "node:fs";
import { randomBytes } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import * as Y from "yjs";
import * as decoding from "lib0/decoding";
import { CloseCodes } from "@palimpsest/contracts";
import { useSystem } from "./system.ts";
import { rawConnect, type CollabClient, type RawSession } from "./collab-client.ts";
import { storedUpdates, syncUpdateMessage } from "./stream-helpers.ts";

const MiB = 1024 * 1024;
const DOC_QUOTA = 4 * MiB;
const USER_QUOTA = 6 * MiB;
const IDLE_MS = 20_000;
const FLOOD_MIB = 96;

const ctx = useSystem("sync-limits", {
  readyTimeoutMs: 120_000,
  // Two replicas: the per-user limits hold over all of them, not once per replica.
  syncReplicas: 2,
  env: {
    SYNC_DOC_QUOTA_BYTES: String(DOC_QUOTA),
    SYNC_USER_QUOTA_BYTES: String(USER_QUOTA),
    SYNC_MAX_CONNECTIONS_PER_USER: "3",
    SYNC_MAX_DOCUMENTS_PER_USER: "2",
    SYNC_IDLE_TIMEOUT_MS: String(IDLE_MS),
    // Only the client's own messages (its awareness renewals) keep it open, not answers to resyncs.
    SYNC_RESYNC_MS: "0",
    // What one connection may make a replica take in before it is paused: at most this much received
    // and not yet stored, plus what its socket had read when it was paused (this, the largest update
    // and the largest other message): about 12 MiB here, well under the flood below. At the defaults
    // (up to 50 MiB, and a few copies of each update while it is decoded and stored) a replica that
    // keeps to its budgets and one that held the flood would look alike.
    SYNC_MAX_PENDING_BYTES: String(2 * MiB),
    SYNC_MAX_UPDATE_BYTES: String(6 * MiB),
  },
});

const wsUrl = (docId: string, token: string) => `${ctx.system.gatewayUrl().replace(/^http/, "ws")}/collab/${docId}?token=${token}`;
/** Straight to one sync replica, as a gateway forwards a connection there (sync checks the token itself). */
const replicaUrl = (i: number, docId: string, token: string) => `ws://127.0.0.1:${ctx.system.byName("sync")[i]!.port}/collab/${docId}?token=${token}`;

function closesOf(c: CollabClient): number[] {
  const codes: number[] = [];
  c.provider.on("connection-close", (e) => e && codes.push(e.code));
  return codes;
}

/**
 * Connects as a y-websocket client does after a refusal: again a moment later, until admitted (its
 * first message is sync step 1). A place freed on one replica reaches another through Redis, which
 * a connection opened in the same instant may beat.
 */
async function connectOnceAdmitted(url: string, open: RawSession[]): Promise<RawSession> {
  return vi.waitFor(
    async () => {
      const s = rawConnect(url);
      open.push(s);
      const first = await Promise.race([
        new Promise<Uint8Array>((resolve) => s.socket.once("message", (data: Buffer) => resolve(new Uint8Array(data)))),
        s.closed.then(() => undefined),
      ]);
      if (first?.[0] !== 0) {
        s.socket.close();
        throw new Error(`refused: ${deniedReasons(s).join(" ") || "closed"}`);
      }
      return s;
    },
    { timeout: 15_000, interval: 250 },
  );
}

/** The reason of the auth permission-denied messages a raw session received. */
function deniedReasons(s: RawSession): string[] {
  return s.messages.flatMap((m) => {
    const d = decoding.createDecoder(m);
    if (decoding.readVarUint(d) !== 2 || decoding.readVarUint(d) !== 0) return [];
    return [decoding.readVarString(d)];
  });
}

const storedBytes = async (docId: string) => (await storedUpdates(ctx.nc, ctx.jsm, docId)).reduce((n, u) => n + u.byteLength, 0);
const chunk = () => randomBytes(MiB / 2).toString("hex");

function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? NaN) * 1024;
}

describe("storage quotas", () => {
  it("given a document at its quota, when its editor types more, then the connection is refused with QUOTA_EXCEEDED (4413) and nothing past the quota is stored", async () => {
    const { api, auth } = await ctx.anon.newUser("Quota doc");
    const doc = await api.createDoc("Full");
    const editor = ctx.client(doc.id, auth.accessToken);
    const closes = closesOf(editor);
    await vi.waitFor(() => expect(editor.provider.synced).toBe(true), { timeout: 15_000 });
    for (let i = 0; i < 8 && closes.length === 0; i++) {
      const stored = await storedBytes(doc.id);
      editor.doc.getText("t").insert(0, chunk());
      // Each chunk is stored, or refused, before the next is typed.
      await vi.waitFor(async () => expect(closes.length > 0 || (await storedBytes(doc.id)) > stored).toBe(true), { timeout: 20_000 });
    }
    expect(closes).toContain(CloseCodes.quotaExceeded);
    const stored = await storedBytes(doc.id);
    expect(stored).toBeGreaterThan(2 * MiB);
    expect(stored).toBeLessThanOrEqual(DOC_QUOTA);
  });

  it("given a user whose edits fill their own quota across documents, when they write to another document, then that is refused too", async () => {
    const { api, auth } = await ctx.anon.newUser("Quota user");
    const a = await api.createDoc("A");
    const b = await api.createDoc("B");
    const first = ctx.client(a.id, auth.accessToken);
    await vi.waitFor(() => expect(first.provider.synced).toBe(true), { timeout: 15_000 });
    for (let i = 0; i < 3; i++) first.doc.getText("t").insert(0, chunk());
    await vi.waitFor(async () => expect(await storedBytes(a.id)).toBeGreaterThan(3 * MiB), { timeout: 20_000 });
    first.destroy();

    const second = ctx.client(b.id, auth.accessToken);
    const closes = closesOf(second);
    await vi.waitFor(() => expect(second.provider.synced).toBe(true), { timeout: 15_000 });
    for (let i = 0; i < 4; i++) second.doc.getText("t").insert(0, chunk());
    await vi.waitFor(() => expect(closes).toContain(CloseCodes.quotaExceeded), { timeout: 20_000 });
    expect((await storedBytes(a.id)) + (await storedBytes(b.id))).toBeLessThanOrEqual(USER_QUOTA);
  });

  it("given a client flooding large updates as fast as it can, when the document reaches its quota, then it is cut off and the server neither stores nor holds the flood", async () => {
    const { api, auth } = await ctx.anon.newUser("Flood");
    const doc = await api.createDoc("Flooded");
    // Either replica may take the connection: both are watched, and the one that grows is judged.
    const pids = ctx.system.byName("sync").map((s) => s.process.pid!);
    const flood = rawConnect(wsUrl(doc.id, auth.accessToken));
    await vi.waitFor(() => expect(flood.messages.length).toBeGreaterThan(0), { timeout: 15_000 });
    const before = pids.map(rssOf);
    const peak = [...before];
    const sampler = setInterval(() => pids.forEach((pid, i) => (peak[i] = Math.max(peak[i]!, rssOf(pid)))), 20);
    try {
      const local = new Y.Doc();
      local.on("update", (u: Uint8Array) => flood.socket.send(syncUpdateMessage(u)));
      // 96 MiB, sent without waiting: far more than the quota and than what a connection may make a replica take in.
      for (let i = 0; i < FLOOD_MIB; i++) local.getText("t").insert(0, randomBytes(MiB / 2).toString("hex"));
      const { code } = await flood.closed;
      expect(code).toBe(CloseCodes.quotaExceeded);
      expect(deniedReasons(flood).join(" ")).toMatch(/quota/);
    } finally {
      clearInterval(sampler);
    }
    expect(await storedBytes(doc.id)).toBeLessThanOrEqual(DOC_QUOTA);
    // What the replica took in within its budgets, stored or dropped, with the copies made while
    // decoding and storing it that are not collected yet (43-51 MiB measured); never the flood.
    const grown = Math.max(...peak.map((p, i) => p - before[i]!));
    expect(grown).toBeLessThan(FLOOD_MIB * MiB * 0.75);
  });
});

describe("per-user limits on open connections and documents", () => {
  it("given a user with the most connections allowed, when they open one more, then it is refused (4429) with the reason, and accepted again once one closes", async () => {
    const { api, auth } = await ctx.anon.newUser("Many tabs");
    const doc = await api.createDoc("Tabs");
    const open = [0, 1, 2].map(() => rawConnect(wsUrl(doc.id, auth.accessToken)));
    try {
      for (const s of open) await vi.waitFor(() => expect(s.messages.length).toBeGreaterThan(0), { timeout: 15_000 });
      const extra = rawConnect(wsUrl(doc.id, auth.accessToken));
      expect((await extra.closed).code).toBe(CloseCodes.rateLimited);
      expect(deniedReasons(extra).join(" ")).toMatch(/too many open connections/);

      open.shift()!.socket.close();
      await connectOnceAdmitted(wsUrl(doc.id, auth.accessToken), open);
    } finally {
      for (const s of open) s.socket.close();
    }
  });

  it("given a user with the most documents open, when they open another document, then it is refused (4429)", async () => {
    const { api, auth } = await ctx.anon.newUser("Many docs");
    const docs = await Promise.all(["1", "2", "3"].map((t) => api.createDoc(t)));
    const open = docs.slice(0, 2).map((d) => rawConnect(wsUrl(d.id, auth.accessToken)));
    try {
      for (const s of open) await vi.waitFor(() => expect(s.messages.length).toBeGreaterThan(0), { timeout: 15_000 });
      const third = rawConnect(wsUrl(docs[2]!.id, auth.accessToken));
      expect((await third.closed).code).toBe(CloseCodes.rateLimited);
      expect(deniedReasons(third).join(" ")).toMatch(/too many open documents/);
    } finally {
      for (const s of open) s.socket.close();
    }
  });
});

describe("per-user limits over several sync replicas", () => {
  it("given a user's connections spread over two replicas, when they open one more than allowed, then it is refused (4429) whichever replica it reaches", async () => {
    const { api, auth } = await ctx.anon.newUser("Two replicas");
    const [a, b] = await Promise.all([api.createDoc("A"), api.createDoc("B")]);
    const open = [replicaUrl(0, a.id, auth.accessToken), replicaUrl(0, a.id, auth.accessToken), replicaUrl(1, b.id, auth.accessToken)].map(rawConnect);
    try {
      for (const s of open) await vi.waitFor(() => expect(s.messages.length).toBeGreaterThan(0), { timeout: 15_000 });
      // Replica 1 holds one of this user's connections only; the user holds three.
      const extra = rawConnect(replicaUrl(1, b.id, auth.accessToken));
      expect((await extra.closed).code).toBe(CloseCodes.rateLimited);
      expect(deniedReasons(extra).join(" ")).toMatch(/too many open connections/);
      // Closing one anywhere frees a place everywhere.
      open.shift()!.socket.close();
      await connectOnceAdmitted(replicaUrl(1, b.id, auth.accessToken), open);
    } finally {
      for (const s of open) s.socket.close();
    }
  });

  it("given a user with two documents open on one replica, when they open a third on the other, then it is refused (4429)", async () => {
    const { api, auth } = await ctx.anon.newUser("Docs on two replicas");
    const docs = await Promise.all(["1", "2", "3"].map((t) => api.createDoc(t)));
    const open = [replicaUrl(0, docs[0]!.id, auth.accessToken), replicaUrl(0, docs[1]!.id, auth.accessToken)].map(rawConnect);
    try {
      for (const s of open) await vi.waitFor(() => expect(s.messages.length).toBeGreaterThan(0), { timeout: 15_000 });
      const third = rawConnect(replicaUrl(1, docs[2]!.id, auth.accessToken));
      expect((await third.closed).code).toBe(CloseCodes.rateLimited);
      expect(deniedReasons(third).join(" ")).toMatch(/too many open documents/);
    } finally {
      for (const s of open) s.socket.close();
    }
  });
});

describe("per-user limits when a sync replica dies", () => {
  it("given a user at the connection limit with two connections on a replica that is killed, when they reconnect to the other one, then they are admitted within seconds instead of after the dead replica's leases lapse (a minute)", async () => {
    const { api, auth } = await ctx.anon.newUser("Failover");
    const [a, b] = await Promise.all([api.createDoc("A"), api.createDoc("B")]);
    const open = [replicaUrl(0, a.id, auth.accessToken), replicaUrl(0, a.id, auth.accessToken), replicaUrl(1, b.id, auth.accessToken)].map(rawConnect);
    const victim = ctx.system.byName("sync")[0]!;
    try {
      for (const s of open) await vi.waitFor(() => expect(s.messages.length).toBeGreaterThan(0), { timeout: 15_000 });

      // When the replica holding two of the three dies without closing anything
      await victim.process.kill();
      await Promise.all(open.slice(0, 2).map((s) => s.closed));

      // Then both come back on the other replica within 15 s each (the dead replica's leases would hold their places for 60 s)
      await connectOnceAdmitted(replicaUrl(1, a.id, auth.accessToken), open);
      await connectOnceAdmitted(replicaUrl(1, a.id, auth.accessToken), open);
      // And the limit still holds over what is really open: three on the live replica
      const extra = rawConnect(replicaUrl(1, b.id, auth.accessToken));
      expect((await extra.closed).code).toBe(CloseCodes.rateLimited);
    } finally {
      for (const s of open) s.socket.close();
      await ctx.system.start();
    }
  });
});

describe("idle connections", () => {
  it("given a connection that sends nothing, when the idle timeout passes, then it is closed (1001), while a live y-websocket client in the same document stays connected", async () => {
    const { api, auth } = await ctx.anon.newUser("Idle");
    const doc = await api.createDoc("Quiet");
    const live = ctx.client(doc.id, auth.accessToken);
    const liveCloses = closesOf(live);
    await vi.waitFor(() => expect(live.provider.synced).toBe(true), { timeout: 15_000 });
    const idle = rawConnect(wsUrl(doc.id, auth.accessToken));
    const started = Date.now();
    const { code } = await idle.closed;
    expect(code).toBe(CloseCodes.goingAway);
    expect(Date.now() - started).toBeGreaterThanOrEqual(IDLE_MS - 1000);
    // The live client, quiet as a reader but renewing its awareness, was never cut off.
    expect(liveCloses).toEqual([]);
    expect(live.provider.wsconnected).toBe(true);
  }, 60_000);
});
