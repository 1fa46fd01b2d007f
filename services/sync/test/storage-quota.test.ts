import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { natsOptionsFromEnv } from "@palimpsest/devkit";
import { QUOTA_BUCKET, StorageQuota } from "../src/storage-quota.ts";

let nc: NatsConnection;
const opened: StorageQuota[] = [];
beforeAll(async () => {
  nc = await connect({ ...natsOptionsFromEnv(inject("storeEnv"), "sync"), name: "storage-quota-test" });
});
afterAll(async () => {
  for (const q of opened) await q.close().catch(() => undefined);
  await nc?.close();
});

async function replica(limits: { perUserBytes: number; perDocBytes: number }, now: () => number = Date.now): Promise<StorageQuota> {
  const q = await StorageQuota.open(nc, 1, limits, now);
  opened.push(q);
  return q;
}

/** Writes to the bucket so far: each is one stored message of its stream. */
async function bucketWrites(): Promise<number> {
  const info = await (await jetstreamManager(nc)).streams.info(`KV_${QUOTA_BUCKET}`);
  return info.state.last_seq;
}

const accepted = (p: Promise<void>) => p.then(() => true, () => false);

describe("storage quotas in the SYNC_QUOTAS bucket", () => {
  it("given a typist, when a thousand keystrokes are reserved, then the counters are written once per grant, not twice per keystroke", async () => {
    const q = await replica({ perUserBytes: 1024 ** 3, perDocBytes: 256 * 1024 ** 2 });
    const user = randomUUID();
    const doc = randomUUID();
    const before = await bucketWrites();
    for (let i = 0; i < 1000; i++) await q.reserve(user, doc, 40);
    // 40,000 bytes: one grant for the user's counter and one for the document's.
    expect((await bucketWrites()) - before).toBe(2);
    expect(await q.used("doc", doc)).toBeGreaterThanOrEqual(40_000);
  });

  it("given two replicas writing one document at once, when it reaches its quota, then no more than the quota is reserved and nearly all of it is usable", async () => {
    const limit = 100_000;
    const a = await replica({ perUserBytes: 1024 ** 3, perDocBytes: limit });
    const b = await replica({ perUserBytes: 1024 ** 3, perDocBytes: limit });
    const doc = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => accepted((i % 2 === 0 ? a : b).reserve(`user-${i % 7}-${doc}`, doc, 1000))),
    );
    const reservedBytes = results.filter(Boolean).length * 1000;
    expect(reservedBytes).toBeLessThanOrEqual(limit);
    // At most one small grant per replica is left unspent near the limit (a 64th of it each).
    expect(reservedBytes).toBeGreaterThanOrEqual(limit - 2 * Math.floor(limit / 64));
    expect(await a.used("doc", doc)).toBeLessThanOrEqual(limit);
  });

  it("given a refused edit, when it is released, then the next edit is paid from it without a new write", async () => {
    const qa = await replica({ perUserBytes: 1024 ** 3, perDocBytes: 256 * 1024 ** 2 });
    const user = randomUUID();
    const doc = randomUUID();
    await qa.reserve(user, doc, 70_000);
    const before = await bucketWrites();
    qa.release(user, doc, 70_000);
    await qa.reserve(user, doc, 70_000);
    expect((await bucketWrites()) - before).toBe(0);
  });

  it("given grants left unspent, when they go unused for 30 s, or the replica shuts down, then the counters hold exactly what was spent", async () => {
    let t = 1_000_000;
    const qa = await replica({ perUserBytes: 1024 ** 3, perDocBytes: 256 * 1024 ** 2 }, () => t);
    const user = randomUUID();
    const doc = randomUUID();
    const other = randomUUID();
    await qa.reserve(user, doc, 100);
    await qa.reserve(user, other, 100);
    expect(await qa.used("doc", doc)).toBeGreaterThan(100);
    t += 20_000;
    await qa.reserve(user, other, 50);
    t += 15_000;
    // The first document's grant has been idle for 35 s, the other's for 15 s.
    await qa.returnIdle();
    expect(await qa.used("doc", doc)).toBe(100);
    expect(await qa.used("doc", other)).toBeGreaterThan(150);
    await qa.close();
    expect(await qa.used("doc", other)).toBe(150);
    expect(await qa.used("user", user)).toBe(250);
  });
});
