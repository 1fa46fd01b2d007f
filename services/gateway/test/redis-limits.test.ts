import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, inject, vi } from "vitest";
import { Redis } from "ioredis";
import { LoginLockout } from "../src/login-lockout.ts";
import { UploadSlots } from "../src/upload-slots.ts";

let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject("storeEnv")["REDIS_URL"]!);
});
afterAll(() => redis?.disconnect());

const policy = { failuresPerAddress: 3, failuresPerAccount: 7, windowSeconds: 60, lockoutSeconds: 10, maxLockoutSeconds: 25 };

describe("sign-in lockout, in Redis", () => {
  it("locks the account for the guessing address first, longer each time up to the longest, and not for others", async () => {
    const lockout = new LoginLockout(redis, policy, `test:${randomUUID()}`);
    const email = "victim@example.test";
    for (let i = 0; i < 2; i++) await lockout.failed(email, "10.0.0.1");
    expect(await lockout.lockedFor(email, "10.0.0.1")).toBe(0);
    await lockout.failed(email, "10.0.0.1");
    expect(await lockout.lockedFor(email, "10.0.0.1")).toBe(10);
    expect(await lockout.lockedFor("VICTIM@example.test", "10.0.0.1")).toBe(10);
    expect(await lockout.lockedFor(email, "10.0.0.2")).toBe(0);
    // A lock starts the count over: three more failures make the next, doubled, lock; the third is capped.
    for (let i = 0; i < 3; i++) await lockout.failed(email, "10.0.0.1");
    expect(await lockout.lockedFor(email, "10.0.0.1")).toBe(20);
    expect(await lockout.lockedFor(email, "10.0.0.2")).toBe(0);
  });

  it("locks the account for everyone once failures from every address add up, for the first lockout's length only", async () => {
    const lockout = new LoginLockout(redis, policy, `test:${randomUUID()}`);
    const email = "spread@example.test";
    for (let i = 1; i <= 6; i++) await lockout.failed(email, `10.0.1.${i}`);
    expect(await lockout.lockedFor(email, "10.0.2.1")).toBe(0);
    await lockout.failed(email, "10.0.1.7");
    expect(await lockout.lockedFor(email, "10.0.2.1")).toBe(10);
    expect(await lockout.lockedFor("other@example.test", "10.0.2.1")).toBe(0);
  });

  it("starts an address's count over when the right password comes from it", async () => {
    const lockout = new LoginLockout(redis, policy, `test:${randomUUID()}`);
    const email = "owner@example.test";
    for (let i = 0; i < 2; i++) await lockout.failed(email, "10.0.3.1");
    await lockout.succeeded(email, "10.0.3.1");
    for (let i = 0; i < 2; i++) await lockout.failed(email, "10.0.3.1");
    expect(await lockout.lockedFor(email, "10.0.3.1")).toBe(0);
  });
});

describe("upload slots, in Redis", () => {
  it("gives each user a few at once, frees one when released, and drops slots that lapsed", async () => {
    const prefix = `test:${randomUUID()}`;
    const slots = new UploadSlots(redis, 2, 60_000, prefix);
    expect([await slots.take("u1", "a"), await slots.take("u1", "b"), await slots.take("u1", "c")]).toEqual([true, true, false]);
    expect(await slots.take("u2", "a")).toBe(true);
    await slots.release("u1", "a");
    expect(await slots.take("u1", "c")).toBe(true);
    // A gateway that died mid-upload never releases: its slots lapse after an upload's longest time.
    const brief = new UploadSlots(redis, 1, 200, `${prefix}:brief`);
    expect(await brief.take("u3", "x")).toBe(true);
    expect(await brief.take("u3", "y")).toBe(false);
    await vi.waitFor(async () => expect(await brief.take("u3", "y")).toBe(true), { timeout: 2_000, interval: 50 });
  });
});
