import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { JsMsg } from "@nats-io/jetstream";
import { encodeEditHead, subjects, type AnyDomainEvent, type Role } from "@palimpsest/contracts";
import type { Logger } from "@palimpsest/platform";
import { scratchSchema, type ScratchSchema } from "@palimpsest/devkit";
import { applyDocsEvent, applyEditHeadsBatch } from "../src/docs-projection.ts";
import { docsMigrations, type DocsDb } from "../src/schema.ts";
import type { WorkspaceStore } from "../src/workspace-store.ts";
import { AccessCache } from "../src/access-cache.ts";
import { emptyDoc, evolve } from "../src/domain/document.ts";
import type { DocumentStore } from "../src/document-store.ts";

/**
 * Two commands on one document append seq 9 and 10; the command path of the second can apply
 * before the first's. The read model must end with both, like a replay of the stream does.
 */

let scratch: ScratchSchema<DocsDb>;
let db: Kysely<DocsDb>;

beforeAll(async () => {
  scratch = await scratchSchema<DocsDb>(inject("storeEnv")["DATABASE_URL"]!, "docs_projection", docsMigrations);
  db = scratch.db;
});
afterAll(async () => {
  await scratch?.drop();
});

const at = "2026-12-01T10:00:00.000Z";
const created = (docId: string): AnyDomainEvent => ({ id: randomUUID(), type: "doc.created.v1", at, actorId: "owner", data: { docId, title: "Plan", kind: "text", ownerId: "owner" } });
const shared = (docId: string, userId: string, role: Role): AnyDomainEvent => ({ id: randomUUID(), type: "doc.shared.v1", at, actorId: "owner", data: { docId, userId, role } });

async function members(docId: string): Promise<Record<string, string>> {
  const rows = await db.selectFrom("document_members").select(["user_id", "role"]).where("doc_id", "=", docId).execute();
  return Object.fromEntries(rows.map((r) => [r.user_id, r.role]));
}

describe("the docs read model, applied by commands out of order", () => {
  it("given seq 9 stored but not applied, when the command of seq 10 applies first, then it waits its turn and both end in the table", async () => {
    const docId = randomUUID();
    const e1 = created(docId);
    const e9 = shared(docId, "alice", "editor");
    const e10 = shared(docId, "bob", "viewer");
    expect(await applyDocsEvent(db, e1, 1, 0)).toBe(true);

    // The second command is first to reach the table: it must not claim the version past seq 9.
    expect(await applyDocsEvent(db, e10, 10, 9)).toBe(false);
    expect(await applyDocsEvent(db, e9, 9, 1)).toBe(true);
    expect(await applyDocsEvent(db, e10, 10, 9)).toBe(true);
    expect(await members(docId)).toEqual({ owner: "owner", alice: "editor", bob: "viewer" });

    // The projector then reads the stream in order and finds everything applied.
    for (const [e, seq] of [[e1, 1], [e9, 9], [e10, 10]] as const) expect(await applyDocsEvent(db, e, seq)).toBe(true);
    expect(await members(docId)).toEqual({ owner: "owner", alice: "editor", bob: "viewer" });
    const doc = await db.selectFrom("documents").select("version").where("id", "=", docId).executeTakeFirstOrThrow();
    expect(doc.version).toBe(10);
  });

  it("given the projector applied seq 10 already, when the late command of seq 10 applies, then it reports it applied and changes nothing", async () => {
    const docId = randomUUID();
    const e1 = created(docId);
    const e9 = shared(docId, "alice", "editor");
    const e10 = shared(docId, "alice", "commenter");
    for (const [e, seq] of [[e1, 1], [e9, 9], [e10, 10]] as const) await applyDocsEvent(db, e, seq);
    expect(await applyDocsEvent(db, e9, 9, 1)).toBe(true);
    expect(await members(docId)).toEqual({ owner: "owner", alice: "commenter" });
  });
});

describe("the access cache, told of events out of order", () => {
  it("given a cached document at seq 1, when this replica's command of seq 10 arrives before seq 9, then the document is loaded again and holds both", async () => {
    const docId = randomUUID();
    const stream: [AnyDomainEvent, number][] = [[created(docId), 1]];
    const store = {
      load: async () => ({ state: stream.reduce((s, [e, seq]) => evolve(s, e, seq), emptyDoc(docId)), eventIds: new Set<string>() }),
    } as unknown as DocumentStore;
    const silent = { error: () => undefined } as unknown as Logger;
    const cache = new AccessCache(store, {} as unknown as WorkspaceStore, silent);
    expect((await cache.state(docId)).version).toBe(1);

    const e9 = shared(docId, "alice", "editor");
    const e10 = shared(docId, "bob", "viewer");
    stream.push([e9, 9], [e10, 10]);
    cache.observe(docId, e10, 10, 9);
    const state = await cache.state(docId);
    expect(state.version).toBe(10);
    expect(Object.fromEntries(state.members)).toEqual({ owner: "owner", alice: "editor", bob: "viewer" });
  });
});

describe("the document list's last-edit times, from each document's head", () => {
  const head = (docId: string, seq: number, at: string) => ({ subject: subjects.editHead(docId), data: encodeEditHead({ seq, at }) }) as unknown as JsMsg;
  const erased = (docId: string) => ({ subject: subjects.editHead(docId), data: new Uint8Array(0) }) as unknown as JsMsg;
  const lastEdit = async (docId: string) =>
    (await db.selectFrom("document_last_edit").select("last_edit_at").where("doc_id", "=", docId).executeTakeFirst())?.last_edit_at.toISOString();

  it("given heads of several documents in a batch, then each keeps its newest time, and a later batch never moves it back", async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    await db.transaction().execute((trx) => applyEditHeadsBatch(trx, [head(a, 1, "2026-12-01T10:00:00.000Z"), head(b, 4, "2026-12-01T10:00:01.000Z"), head(a, 3, "2026-12-01T10:00:02.000Z")]));
    expect(await lastEdit(a)).toBe("2026-12-01T10:00:02.000Z");
    expect(await lastEdit(b)).toBe("2026-12-01T10:00:01.000Z");
    // Delivered again after a checkpoint that went back: an older head changes nothing.
    await db.transaction().execute((trx) => applyEditHeadsBatch(trx, [head(a, 1, "2026-12-01T10:00:00.000Z")]));
    expect(await lastEdit(a)).toBe("2026-12-01T10:00:02.000Z");
  });

  it("given an erased document's empty head, then its row goes, and a malformed head or another subject is skipped", async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    await db.transaction().execute((trx) => applyEditHeadsBatch(trx, [head(a, 2, "2026-12-01T11:00:00.000Z"), head(b, 2, "2026-12-01T11:00:00.000Z")]));
    const junk = { subject: subjects.editHead(b), data: new TextEncoder().encode('{"seq":0,"at":"yesterday"}') } as unknown as JsMsg;
    const elsewhere = { subject: "edits.x", data: encodeEditHead({ seq: 1, at: "2026-12-01T12:00:00.000Z" }) } as unknown as JsMsg;
    await db.transaction().execute((trx) => applyEditHeadsBatch(trx, [head(a, 3, "2026-12-01T11:30:00.000Z"), erased(a), junk, elsewhere]));
    expect(await lastEdit(a)).toBeUndefined();
    expect(await lastEdit(b)).toBe("2026-12-01T11:00:00.000Z");
  });
});
