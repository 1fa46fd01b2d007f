// The bus is not trusted: NATS refuses anyone without credentials, each service's credentials
// allow only the subjects it needs, and a service believes who is calling only from an access
// token it verifies itself.

import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { randomUUID } from "node:crypto";
import { rpc, subjects, type AuthResult, type DocView } from "@palimpsest/contracts";
import { callRpc } from "@palimpsest/platform";
import { natsOptionsFromEnv, type TestApi } from "@palimpsest/devkit";
import type { BusUser } from "@palimpsest/platform";
import { useSystem } from "./system.ts";
import { foreignSigner, mint } from "./token-helpers.ts";

const ctx = useSystem("bus-security");
const opened: NatsConnection[] = [];

async function as(user: BusUser): Promise<NatsConnection> {
  const nc = await connect({ ...natsOptionsFromEnv(inject("storeEnv"), user), name: `test-as-${user}` });
  opened.push(nc);
  return nc;
}

/** Whether the server refuses this connection's subscription to `subject`. */
async function subscriptionRefused(nc: NatsConnection, subject: string): Promise<boolean> {
  const sub = nc.subscribe(subject);
  const outcome = await Promise.race([
    sub.closed.then((v) => (v instanceof Error && /Permissions Violation/.test(v.message) ? "refused" : "closed")),
    nc.flush().then(() => new Promise<string>((resolve) => setTimeout(() => resolve("open"), 500))),
  ]);
  sub.unsubscribe();
  return outcome === "refused";
}

/** Whether the server refuses this connection's request on `subject` (JetStream API calls and stream appends are requests). */
async function publishRefused(nc: NatsConnection, subject: string, data = ""): Promise<boolean> {
  try {
    await nc.request(subject, data, { timeout: 1_000 });
    return false;
  } catch (err) {
    return err instanceof Error && /Permissions Violation/.test(err.message);
  }
}

let owner: { api: TestApi; auth: AuthResult };
let stranger: { api: TestApi; auth: AuthResult };
let doc: DocView;

beforeAll(async () => {
  owner = await ctx.anon.newUser("Owner");
  stranger = await ctx.anon.newUser("Stranger");
  doc = await owner.api.createDoc("Private");
});
afterAll(async () => {
  await Promise.all(opened.map((nc) => nc.close()));
});

describe("who may connect", () => {
  it("a connection without credentials is refused", async () => {
    const servers = natsOptionsFromEnv(inject("storeEnv")).servers;
    await expect(connect({ servers, reconnect: false })).rejects.toThrow(/Authorization Violation/);
  });

  it("a wrong password is refused", async () => {
    const o = natsOptionsFromEnv(inject("storeEnv"), "sync");
    await expect(connect({ servers: o.servers, user: "sync", pass: `${o.pass}x`, reconnect: false })).rejects.toThrow(/Authorization Violation/);
  });
});

describe("what each service may say", () => {
  it("only sync and history may append edits", async () => {
    const subject = subjects.edits(`bus-${randomUUID()}`);
    for (const user of ["gateway", "auth", "docs", "files"] as const) {
      expect(await publishRefused(await as(user), subject, "forged"), user).toBe(true);
    }
    // Nothing reached the stream.
    expect(await ctx.jsm.streams.getMessage("EDITS", { last_by_subj: subject })).toBeNull();
    // Control: history's own credentials may (a restore is an edit).
    const ack = await jetstream(await as("history")).publish(subject, new Uint8Array([0, 0]));
    expect(ack.seq).toBeGreaterThan(0);
  });

  it("only auth answers auth's requests: nobody else can serve the JWKS", async () => {
    for (const user of ["gateway", "docs", "sync", "files", "history"] as const) {
      expect(await subscriptionRefused(await as(user), rpc.auth.jwks), user).toBe(true);
      expect(await subscriptionRefused(await as(user), "rpc.auth.>"), user).toBe(true);
    }
    // The refused impostors took nothing over: tokens still verify against auth's keys.
    expect((await owner.api.get(`/api/docs/${doc.id}`)).status).toBe(200);
  });

  it("a service answers only its own requests", async () => {
    expect(await subscriptionRefused(await as("files"), rpc.docs.access)).toBe(true);
    expect(await subscriptionRefused(await as("sync"), rpc.history.restore)).toBe(true);
    expect(await subscriptionRefused(await as("docs"), subjects.collabControl())).toBe(true);
    expect(await subscriptionRefused(await as("gateway"), "_INBOX_sync.>")).toBe(true);
  });

  it("a service may answer into the inboxes of its callers only", async () => {
    // Allowed: the request meets no one (no responders), which is not a permissions violation.
    expect(await publishRefused(await as("docs"), "_INBOX_sync.bus-test")).toBe(false);
    expect(await publishRefused(await as("auth"), "_INBOX_gateway.bus-test")).toBe(false);
    // Refused: docs never calls files, auth never calls the gateway, history never calls sync.
    expect(await publishRefused(await as("files"), "_INBOX_docs.bus-test")).toBe(true);
    expect(await publishRefused(await as("gateway"), "_INBOX_auth.bus-test")).toBe(true);
    expect(await publishRefused(await as("sync"), "_INBOX_history.bus-test")).toBe(true);
  });

  it("the gateway cannot make internal calls, such as who has an email", async () => {
    expect(await publishRefused(await as("gateway"), rpc.auth.lookup, "{}")).toBe(true);
    expect(await publishRefused(await as("gateway"), rpc.history.snapshot, "{}")).toBe(true);
  });

  it("no service may change, purge or delete a stream; the admin may", async () => {
    for (const user of ["gateway", "auth", "docs", "sync", "files", "history"] as const) {
      const nc = await as(user);
      expect(await publishRefused(nc, "$JS.API.STREAM.UPDATE.EDITS", JSON.stringify({ name: "EDITS", max_msgs: 1 })), user).toBe(true);
      expect(await publishRefused(nc, "$JS.API.STREAM.PURGE.DOCS", "{}"), user).toBe(true);
      expect(await publishRefused(nc, "$JS.API.STREAM.DELETE.AUTH", ""), user).toBe(true);
    }
    // EDITS allows a purge (erasing a purged document's edits), and only history's user may ask for one.
    for (const user of ["gateway", "auth", "docs", "sync", "files"] as const) {
      expect(await publishRefused(await as(user), "$JS.API.STREAM.PURGE.EDITS", "{}"), user).toBe(true);
    }
    const admin = await jetstreamManager(await as("admin"));
    expect((await admin.streams.info("EDITS")).config.deny_purge).toBe(false);
    for (const stream of ["DOCS", "AUTH"]) expect((await admin.streams.info(stream)).config.deny_purge).toBe(true);
  });
});

describe("who is calling", () => {
  /** A request for the test document on `subject`, with whatever identity fields `extra` holds. */
  const call = (nc: NatsConnection, subject: string, extra: Record<string, unknown>) =>
    callRpc(nc, subject, { requestId: randomUUID(), input: { id: doc.id }, ...extra }, 5_000);
  const get = (nc: NatsConnection, extra: Record<string, unknown>) => call(nc, rpc.docs.get, extra);

  it("a request that only names a caller is refused", async () => {
    const reply = await get(await as("gateway"), { caller: { userId: owner.auth.user.id, sessionId: randomUUID() } });
    expect(reply.ok).toBe(false);
    if (!reply.ok) expect(reply.error.code).toBe("UNAUTHENTICATED");
  });

  it("a caller field beside someone else's token is ignored: the token decides", async () => {
    const reply = await get(await as("gateway"), { token: stranger.auth.accessToken, caller: { userId: owner.auth.user.id, sessionId: randomUUID() } });
    expect(reply.ok).toBe(false);
    if (!reply.ok) expect(reply.error.code).toBe("NOT_FOUND");
  });

  it("a token signed with a key that is not auth's is refused", async () => {
    const forged = await mint(await foreignSigner(), { sub: owner.auth.user.id, sid: randomUUID() });
    const reply = await get(await as("gateway"), { token: forged });
    expect(reply.ok).toBe(false);
    if (!reply.ok) expect(reply.error.code).toBe("TOKEN_INVALID");
  });

  it("the owner's own token is accepted (control)", async () => {
    const reply = await get(await as("gateway"), { token: owner.auth.accessToken });
    expect(reply.ok).toBe(true);
  });

  it("history and files check the token too", async () => {
    const nc = await as("gateway");
    for (const subject of [rpc.history.list, rpc.files.list]) {
      const forged = await call(nc, subject, { caller: { userId: owner.auth.user.id, sessionId: randomUUID() } });
      expect(forged.ok, subject).toBe(false);
      if (!forged.ok) expect(forged.error.code, subject).toBe("UNAUTHENTICATED");
      const real = await call(nc, subject, { token: owner.auth.accessToken });
      expect(real.ok, subject).toBe(true);
    }
  });
});
