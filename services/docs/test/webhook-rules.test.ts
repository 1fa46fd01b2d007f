import { describe, expect, it } from "vitest";
import { MAX_WEBHOOKS_PER_DOC } from "@palimpsest/contracts";
import type { DocEventData } from "../src/domain/document.ts";
import { foldDocument, givenDocument } from "./given-document.ts";

/** Webhooks in the document aggregate, as given(events, each by its actor) / when(command by actor) / then(new events or a refusal). */

const DOC = "doc-1";
const OWNER = "u-owner";
const EDITOR = "u-editor";
const STRANGER = "u-stranger";
const HOST = "hooks.example.com";
const SEALED = "v1.aXY.Ym9keQ.dGFn";

type By = [DocEventData, string];
const by = (actor: string, e: DocEventData): By => [e, actor];
const created = by(OWNER, { type: "doc.created.v1", data: { docId: DOC, title: "Plan", kind: "text", ownerId: OWNER } });
const editor = by(OWNER, { type: "doc.shared.v1", data: { docId: DOC, userId: EDITOR, role: "editor" } });
const registered = (webhookId: string, editVersion = 0): By =>
  by(OWNER, { type: "webhook.registered.v1", data: { docId: DOC, webhookId, host: HOST, sealedUrl: SEALED, events: ["doc.renamed"], editVersion } });
const disabled = (webhookId: string): DocEventData => ({ type: "webhook.disabled.v1", data: { docId: DOC, webhookId, reason: "kept failing", ownerId: OWNER } });
const given = givenDocument(DOC);
const register = (webhookId: string) => ({ type: "register-webhook" as const, webhookId, host: HOST, sealedUrl: SEALED, events: ["doc.renamed" as const], editVersion: 3 });

describe("webhooks on a document", () => {
  it("the owner registers one, with the edit version it starts after", () => {
    given(created, editor).when(register("w1"), OWNER).then({ type: "webhook.registered.v1", data: { docId: DOC, webhookId: "w1", host: HOST, sealedUrl: SEALED, events: ["doc.renamed"], editVersion: 3 } });
  });

  it("given webhooks, when the owner hands the document over, then the former owner's endpoints are turned off and the new owner is told", () => {
    const reason = "the document changed owner: its webhooks were turned off; register new ones to receive its events";
    given(created, editor, registered("w1"), registered("w2"), by(OWNER, disabled("w2")))
      .when({ type: "transfer-ownership", toUserId: EDITOR }, OWNER)
      .then(
        { type: "doc.ownership-transferred.v1", data: { docId: DOC, fromUserId: OWNER, toUserId: EDITOR } },
        { type: "webhook.disabled.v1", data: { docId: DOC, webhookId: "w1", reason, ownerId: EDITOR } },
      );
  });

  it("a member who is not the owner is refused (403); a stranger hears of no document (404)", () => {
    given(created, editor).when(register("w1"), EDITOR).thenRefused("FORBIDDEN");
    given(created, editor).when(register("w1"), STRANGER).thenRefused("NOT_FOUND");
    given(created, editor, registered("w1")).when({ type: "delete-webhook", webhookId: "w1" }, EDITOR).thenRefused("FORBIDDEN");
  });

  it(`a document has at most ${MAX_WEBHOOKS_PER_DOC} webhooks; deleting one makes room`, () => {
    const ten = Array.from({ length: MAX_WEBHOOKS_PER_DOC }, (_, i) => registered(`w${i}`));
    given(created, ...ten).when(register("w-next"), OWNER).thenRefused("WEBHOOK_LIMIT_REACHED");
    const deleted = by(OWNER, { type: "webhook.deleted.v1", data: { docId: DOC, webhookId: "w0" } });
    given(created, ...ten, deleted).when(register("w-next"), OWNER).then({ type: "webhook.registered.v1", data: { docId: DOC, webhookId: "w-next", host: HOST, sealedUrl: SEALED, events: ["doc.renamed"], editVersion: 3 } });
  });

  it("deleting: only one that exists", () => {
    given(created, registered("w1")).when({ type: "delete-webhook", webhookId: "w1" }, OWNER).then({ type: "webhook.deleted.v1", data: { docId: DOC, webhookId: "w1" } });
    given(created).when({ type: "delete-webhook", webhookId: "w1" }, OWNER).thenRefused("NOT_FOUND");
  });

  it("the service disables one (no actor), naming the owner to tell; once only, and not one that is gone", () => {
    given(created, registered("w1"))
      .when({ type: "disable-webhook", webhookId: "w1", reason: "kept failing" }, "")
      .then({ type: "webhook.disabled.v1", data: { docId: DOC, webhookId: "w1", reason: "kept failing", ownerId: OWNER } });
    given(created, registered("w1"), disabled("w1")).when({ type: "disable-webhook", webhookId: "w1", reason: "again" }, "").thenNothing();
    given(created).when({ type: "disable-webhook", webhookId: "w1", reason: "gone" }, "").thenNothing();
  });

  it("the owner turns a disabled one on again; one that is on stays as it is", () => {
    given(created, registered("w1"), disabled("w1")).when({ type: "enable-webhook", webhookId: "w1" }, OWNER).then({ type: "webhook.enabled.v1", data: { docId: DOC, webhookId: "w1" } });
    given(created, registered("w1")).when({ type: "enable-webhook", webhookId: "w1" }, OWNER).thenNothing();
  });

  it("a purge takes the document's webhooks with it", () => {
    const purged = by(OWNER, { type: "doc.purged.v1", data: { docId: DOC } });
    expect(foldDocument(DOC, [created, registered("w1"), purged]).webhooks.size).toBe(0);
  });
});
