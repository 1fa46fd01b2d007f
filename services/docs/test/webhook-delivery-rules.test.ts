import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import type { AnyDomainEvent } from "@palimpsest/contracts";
import { nextAttemptAt, DEFAULT_RETRY_SCHEDULE_MS } from "../src/webhook-retry-schedule.ts";
import { deliveryId, endpointSecret, signedHeaders } from "../src/webhook-signing.ts";
import { deliveryBody, editedMessage, webhookMessageOf } from "../src/webhook-events.ts";

const start = new Date("2026-01-01T00:00:00Z");
const at = (ms: number) => new Date(start.getTime() + ms);

describe("webhook retry schedule", () => {
  it("given failed attempts, then the next one waits by the schedule", () => {
    const opts = { scheduleMs: [5_000, 30_000], roundStartedAt: start, maxAgeMs: 86_400_000 };
    expect(nextAttemptAt({ ...opts, attemptsMade: 1, now: at(0) })).toEqual(at(5_000));
    expect(nextAttemptAt({ ...opts, attemptsMade: 2, now: at(5_000) })).toEqual(at(35_000));
  });

  it("given the schedule used up, or the round's time passed, then there is no next attempt", () => {
    expect(nextAttemptAt({ scheduleMs: [5_000], attemptsMade: 2, roundStartedAt: start, now: at(5_000), maxAgeMs: 86_400_000 })).toBeUndefined();
    expect(nextAttemptAt({ scheduleMs: [3_600_000], attemptsMade: 1, roundStartedAt: start, now: at(86_000_000), maxAgeMs: 86_400_000 })).toBeUndefined();
  });

  it("the default schedule fits in a day", () => {
    expect(DEFAULT_RETRY_SCHEDULE_MS.reduce((a, b) => a + b, 0)).toBeLessThan(86_400_000);
  });
});

describe("webhook signing", () => {
  const key = Buffer.alloc(32, 7);

  it("given a webhook id, then its secret is derived (stable, distinct per webhook and key) in the whsec_ form", () => {
    const s = endpointSecret(key, "w1");
    expect(s).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(endpointSecret(key, "w1")).toBe(s);
    expect(endpointSecret(key, "w2")).not.toBe(s);
    expect(endpointSecret(Buffer.alloc(32, 8), "w1")).not.toBe(s);
  });

  it("given a body, then the headers verify with standardwebhooks and match HMAC-SHA256(secret, id.timestamp.body) computed by hand", () => {
    const secret = endpointSecret(key, "w1");
    const body = deliveryBody({ type: "doc.renamed", data: { docId: "d1", title: "T" } }, "2026-01-01T00:00:00.000Z");
    const now = new Date();
    const headers = signedHeaders(secret, "msg_abc", now, body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    const ts = Math.floor(now.getTime() / 1_000);
    const byHand = createHmac("sha256", Buffer.from(secret.slice("whsec_".length), "base64")).update(`msg_abc.${ts}.${body}`).digest("base64");
    expect(headers).toEqual({ "webhook-id": "msg_abc", "webhook-timestamp": String(ts), "webhook-signature": `v1,${byHand}` });
    expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow();
  });

  it("given the same endpoint and event, then the webhook-id is the same; otherwise it differs", () => {
    expect(deliveryId("w1", "docs:5")).toBe(deliveryId("w1", "docs:5"));
    expect(deliveryId("w1", "docs:5")).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(deliveryId("w2", "docs:5")).not.toBe(deliveryId("w1", "docs:5"));
    expect(deliveryId("w1", "docs:6")).not.toBe(deliveryId("w1", "docs:5"));
  });
});

describe("webhook messages", () => {
  const event = (type: string, data: Record<string, unknown>) => ({ id: "e1", type, at: "2026-01-01T00:00:00.000Z", actorId: "u1", data }) as unknown as AnyDomainEvent;

  it("given internal events, then they map to the public names with ids, actor and time, and nothing secret", () => {
    expect(webhookMessageOf(event("doc.untrashed.v1", { docId: "d1" }), "Plan")).toEqual({ type: "doc.restored", data: { docId: "d1", title: "Plan", actorId: "u1", at: "2026-01-01T00:00:00.000Z" } });
    expect(webhookMessageOf(event("doc.shared.v1", { docId: "d1", userId: "u2", role: "viewer", invitedEmail: "x@example.test" }), "Plan")?.data).not.toHaveProperty("invitedEmail");
    expect(webhookMessageOf(event("file.uploaded.v1", { docId: "d1", fileId: "f1", uploaderId: "u1", name: "a.png", contentType: "image/png", size: 3, key: "secret/key", via: "service" }), "Plan")?.data).not.toHaveProperty("key");
    expect(webhookMessageOf(event("comment.created.v1", { docId: "d1", commentId: "c1", body: "Hi", mentions: [] }), "Plan")).toMatchObject({ type: "comment.created", data: { body: "Hi" } });
    for (const t of ["doc.invited.v2", "comment.edited.v1", "webhook.registered.v1", "doc.purged.v1"]) expect(webhookMessageOf(event(t, { docId: "d1" }), "Plan")).toBeUndefined();
  });

  it("given an edit window, then doc.edited says which versions it covers", () => {
    expect(editedMessage("d1", "Plan", 3, 7, "2026-01-01T00:00:00.000Z")).toEqual({ type: "doc.edited", data: { docId: "d1", title: "Plan", fromVersion: 3, toVersion: 7, at: "2026-01-01T00:00:00.000Z" } });
  });
});
