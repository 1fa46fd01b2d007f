import { describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/transport-node";
import { encodeCollabControl, subjects } from "@palimpsest/contracts";
import { RevocationList, type Logger, type Redis } from "../src/index.ts";

/** Core NATS as the list uses it: notices are delivered by hand, status events too. */
function fakeNats() {
  let onNotice: ((err: unknown, msg: { string(): string }) => void) | undefined;
  const status: { type: string }[] = [];
  let wake: (() => void) | undefined;
  const nc = {
    subscribe(subject: string, opts: { callback: typeof onNotice }) {
      expect(subject).toBe(subjects.collabControl());
      onNotice = opts.callback;
      return { unsubscribe: () => undefined };
    },
    flush: async () => undefined,
    status() {
      return (async function* () {
        for (;;) {
          while (status.length > 0) yield status.shift()!;
          await new Promise<void>((r) => (wake = r));
        }
      })();
    },
  };
  return {
    nc: nc as unknown as NatsConnection,
    revoke: (sessionId: string) => onNotice?.(null, { string: () => encodeCollabControl({ type: "session.revoked", sessionId }) }),
    emit: async (type: string) => {
      status.push({ type });
      wake?.();
      await new Promise((r) => setImmediate(r));
    },
  };
}

const log = { warn: () => undefined } as unknown as Logger;
const redisDown = { exists: () => Promise.reject(new Error("ECONNREFUSED")) } as unknown as Redis;
const redisWith = (revoked: Set<string>) => ({ exists: async (key: string) => ([...revoked].some((s) => key.endsWith(s)) ? 1 : 0) }) as unknown as Redis;

describe("RevocationList", () => {
  it("refuses what Redis lists, and what a notice said even when Redis is down", async () => {
    let now = 1_000;
    const bus = fakeNats();
    const list = new RevocationList({ nc: bus.nc, redis: redisWith(new Set(["s-redis"])), log, now: () => now });
    await list.start();
    now = 2_000;
    await expect(list.assertActive({ sessionId: "s-redis", issuedAt: 500 })).rejects.toMatchObject({ code: "SESSION_REVOKED" });
    await expect(list.assertActive({ sessionId: "s-ok", issuedAt: 500 })).resolves.toBeUndefined();

    const down = new RevocationList({ nc: bus.nc, redis: redisDown, log, now: () => now });
    await down.start();
    bus.revoke("s-notice");
    await expect(down.assertActive({ sessionId: "s-notice", issuedAt: 2_500 })).rejects.toMatchObject({ code: "SESSION_REVOKED" });
  });

  it("with Redis down, lets through only tokens issued while it has listened without a break", async () => {
    let now = 10_000;
    const bus = fakeNats();
    const list = new RevocationList({ nc: bus.nc, redis: redisDown, log, now: () => now });
    await list.start();
    await expect(list.assertActive({ sessionId: "s1", issuedAt: 9_000 })).rejects.toMatchObject({ code: "UNAVAILABLE" });
    await expect(list.assertActive({ sessionId: "s1", issuedAt: 10_500 })).resolves.toBeUndefined();
    await bus.emit("disconnect");
    await expect(list.assertActive({ sessionId: "s1", issuedAt: 10_500 })).rejects.toMatchObject({ code: "UNAVAILABLE" });
    now = 20_000;
    await bus.emit("reconnect");
    await expect(list.assertActive({ sessionId: "s1", issuedAt: 10_500 })).rejects.toMatchObject({ code: "UNAVAILABLE" });
    await expect(list.assertActive({ sessionId: "s1", issuedAt: 20_000 })).resolves.toBeUndefined();
  });

  it("stays bounded: forgetting a revocation stops vouching for tokens older than it", async () => {
    let now = 0;
    const bus = fakeNats();
    const list = new RevocationList({ nc: bus.nc, redis: redisDown, log, now: () => now, maxEntries: 2 });
    await list.start();
    for (const s of ["a", "b", "c"]) {
      now += 1_000;
      bus.revoke(s);
    }
    await expect(list.assertActive({ sessionId: "a", issuedAt: 500 })).rejects.toMatchObject({ code: "UNAVAILABLE" });
    await expect(list.assertActive({ sessionId: "c", issuedAt: 500 })).rejects.toMatchObject({ code: "SESSION_REVOKED" });
    await expect(list.assertActive({ sessionId: "x", issuedAt: 1_500 })).resolves.toBeUndefined();
  });
});
