// The docs replica answers "what is this user's role" from memory, kept current by following the
// DOCS stream. A follower whose consumer fails outright must follow again: a cache that stopped
// would keep a removed member's role for as long as it remembers the document.

import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import { natsOptionsFromEnv } from "@palimpsest/devkit";
import { createLogger, ensureStreams } from "@palimpsest/platform";
import { WorkspaceStore } from "../src/workspace-store.ts";
import { AccessCache } from "../src/access-cache.ts";
import { DocumentStore } from "../src/document-store.ts";

let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
beforeAll(async () => {
  nc = await connect({ ...natsOptionsFromEnv(inject("storeEnv"), "docs"), name: "access-cache-test" });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  await ensureStreams(jsm, 1, { update: false });
});
afterAll(async () => {
  await nc?.close();
});

/** Messages from a real consumer, until the first one: then the iteration fails as the server's refusal would. */
function failingAtFirst(real: ConsumerMessages, failed: () => void): ConsumerMessages {
  const messages = {
    [Symbol.asyncIterator](): AsyncIterator<JsMsg> {
      const inner = real[Symbol.asyncIterator]();
      return {
        next: async () => {
          await inner.next();
          failed();
          throw new Error("injected: the consumer failed");
        },
      };
    },
    stop: (err?: Error) => real.stop(err),
    close: () => real.close(),
  };
  return messages as unknown as ConsumerMessages;
}

/** The JetStream client, except that the first consumer it opens fails on its first message. */
function firstConsumerFails(client: JetStreamClient): { js: JetStreamClient; failed: () => boolean } {
  let opened = 0;
  let failed = false;
  const consumers = new Proxy(client.consumers, {
    get(target, prop, receiver) {
      if (prop !== "get") return Reflect.get(target, prop, receiver);
      return async (...args: Parameters<JetStreamClient["consumers"]["get"]>) => {
        const consumer = await target.get(...args);
        if (++opened > 1) return consumer;
        return new Proxy(consumer, {
          get(c, p, r) {
            if (p !== "consume") return Reflect.get(c, p, r);
            return async (...a: Parameters<typeof consumer.consume>) => failingAtFirst(await c.consume(...a), () => (failed = true));
          },
        });
      };
    },
  });
  const js = new Proxy(client, { get: (target, prop, receiver) => (prop === "consumers" ? consumers : Reflect.get(target, prop, receiver)) });
  return { js, failed: () => failed };
}

const apply = async () => undefined;

describe("the access cache", () => {
  it("given its stream consumer failed outright, when a member is removed afterwards, then the cache sees it", async () => {
    const store = new DocumentStore(js, jsm);
    const cache = new AccessCache(store, new WorkspaceStore(js, jsm), createLogger("access-cache-test", "silent", "test"));
    const faulty = firstConsumerFails(js);
    await cache.start(faulty.js, jsm);
    try {
      const owner = randomUUID();
      const member = randomUUID();
      const docId = randomUUID();
      await store.execute(docId, { type: "create", title: "Plan", kind: "text" }, owner, { apply });
      // The first event the follower receives fails its consumer.
      await store.execute(docId, { type: "share-with-user", userId: member, role: "editor" }, owner, { apply });
      await vi.waitFor(() => expect(faulty.failed()).toBe(true), { timeout: 5_000 });
      expect((await cache.roleOf(docId, member)).role).toBe("editor");

      // When the member is removed
      await store.execute(docId, { type: "remove-member", userId: member }, owner, { apply });

      // Then the cache stops granting the role
      await vi.waitFor(async () => expect((await cache.roleOf(docId, member)).role).toBeNull(), { timeout: 5_000 });
    } finally {
      cache.stop();
    }
  });
});
