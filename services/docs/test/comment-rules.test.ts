import { describe, expect, it } from "vitest";
import type { CommentAnchor } from "@palimpsest/contracts";
import type { DocCommand, DocEventData, DocState } from "../src/domain/document.ts";
import { foldDocument, givenDocument } from "./given-document.ts";

/**
 * Comments in the document aggregate, as given(events, each by its actor) / when(command by
 * actor) / then(new events, or a refusal with its stable code).
 */

const DOC = "doc-1";
const OWNER = "u-owner";
const EDITOR = "u-editor";
const COMMENTER = "u-commenter";
const VIEWER = "u-viewer";
const STRANGER = "u-stranger";

type By = [DocEventData, string];
const by = (actor: string, e: DocEventData): By => [e, actor];
const created = (kind: "text" | "board" = "text"): By => by(OWNER, { type: "doc.created.v1", data: { docId: DOC, title: "Plan", kind, ownerId: OWNER } });
const shared = (userId: string, role: "editor" | "commenter" | "viewer"): By => by(OWNER, { type: "doc.shared.v1", data: { docId: DOC, userId, role } });
const team = (kind: "text" | "board" = "text"): By[] => [created(kind), shared(EDITOR, "editor"), shared(COMMENTER, "commenter"), shared(VIEWER, "viewer")];
const textAnchor: CommentAnchor = { type: "text", start: "AQID", end: "BAUG" };

const ev = {
  thread: (commentId: string, extra: { anchor?: CommentAnchor; body?: string; mentions?: string[] } = {}): DocEventData => ({
    type: "comment.created.v1",
    data: { docId: DOC, commentId, ...(extra.anchor ? { anchor: extra.anchor } : {}), body: extra.body ?? "Why?", mentions: extra.mentions ?? [] },
  }),
  reply: (commentId: string, threadId: string, body = "Because.", mentions: string[] = []): DocEventData => ({ type: "comment.created.v1", data: { docId: DOC, commentId, threadId, body, mentions } }),
  edited: (commentId: string, body: string, mentions: string[] = []): DocEventData => ({ type: "comment.edited.v1", data: { docId: DOC, commentId, body, mentions } }),
  deleted: (commentId: string): DocEventData => ({ type: "comment.deleted.v1", data: { docId: DOC, commentId } }),
  resolved: (commentId: string): DocEventData => ({ type: "comment.resolved.v1", data: { docId: DOC, commentId } }),
  reopened: (commentId: string): DocEventData => ({ type: "comment.reopened.v1", data: { docId: DOC, commentId } }),
};

const fold = (events: readonly By[]): DocState => foldDocument(DOC, events);
const given = givenDocument(DOC);

describe("comments on a document", () => {
  it("given a shared document, when each role starts a thread, then owners, editors and commenters may and viewers and strangers may not", () => {
    const add: DocCommand = { type: "add-comment", commentId: "c1", body: "Why?", mentions: [], anchor: textAnchor };
    for (const who of [OWNER, EDITOR, COMMENTER]) given(...team()).when(add, who).then(ev.thread("c1", { anchor: textAnchor }));
    given(...team()).when(add, VIEWER).thenRefused("FORBIDDEN");
    // A stranger learns nothing, not even that the document exists.
    given(...team()).when(add, STRANGER).thenRefused("NOT_FOUND");
    given(...team(), by(OWNER, { type: "doc.trashed.v1", data: { docId: DOC } })).when(add, EDITOR).thenRefused("NOT_FOUND");
  });

  it("given a text document or a board, when the anchor is of the other kind, then it is refused", () => {
    given(...team()).when({ type: "add-comment", commentId: "c1", body: "x", mentions: [], anchor: { type: "card", cardId: "k1" } }, EDITOR).thenRefused("VALIDATION_FAILED");
    given(...team("board")).when({ type: "add-comment", commentId: "c1", body: "x", mentions: [], anchor: textAnchor }, EDITOR).thenRefused("VALIDATION_FAILED");
    given(...team("board")).when({ type: "add-comment", commentId: "c1", body: "x", mentions: [], anchor: { type: "card", cardId: "k1" } }, EDITOR).then(ev.thread("c1", { anchor: { type: "card", cardId: "k1" }, body: "x" }));
    // On the whole document: no anchor.
    given(...team("board")).when({ type: "add-comment", commentId: "c1", body: "x", mentions: [] }, COMMENTER).then(ev.thread("c1", { body: "x" }));
  });

  it("given members, when a comment mentions someone who is not one, then it is refused", () => {
    given(...team()).when({ type: "add-comment", commentId: "c1", body: "@Eve?", mentions: [STRANGER] }, EDITOR).thenRefused("VALIDATION_FAILED");
    given(...team()).when({ type: "add-comment", commentId: "c1", body: "@Vic?", mentions: [VIEWER] }, EDITOR).then(ev.thread("c1", { body: "@Vic?", mentions: [VIEWER] }));
  });

  it("given a thread, when someone replies to it or to a reply in it, then the reply joins the thread; a deleted or unknown one is NOT_FOUND", () => {
    const thread = [...team(), by(EDITOR, ev.thread("t1")), by(OWNER, ev.reply("r1", "t1"))];
    given(...thread).when({ type: "reply", commentId: "r2", to: "t1", body: "Because.", mentions: [] }, COMMENTER).then(ev.reply("r2", "t1"));
    given(...thread).when({ type: "reply", commentId: "r2", to: "r1", body: "Because.", mentions: [] }, COMMENTER).then(ev.reply("r2", "t1"));
    given(...thread).when({ type: "reply", commentId: "r2", to: "t1", body: "x", mentions: [] }, VIEWER).thenRefused("FORBIDDEN");
    given(...thread, by(EDITOR, ev.deleted("t1"))).when({ type: "reply", commentId: "r2", to: "r1", body: "x", mentions: [] }, OWNER).thenRefused("NOT_FOUND");
    given(...thread).when({ type: "reply", commentId: "r2", to: "nope", body: "x", mentions: [] }, OWNER).thenRefused("NOT_FOUND");
  });

  it("given a resolved thread, when someone replies, then the reply is one event and it opens the thread again", () => {
    const resolved = [...team(), by(EDITOR, ev.thread("t1")), by(OWNER, ev.resolved("t1"))];
    given(...resolved)
      .when({ type: "reply", commentId: "r1", to: "t1", body: "Not yet.", mentions: [] }, COMMENTER)
      .then(ev.reply("r1", "t1", "Not yet."));
    expect(foldDocument(DOC, [...resolved, by(COMMENTER, ev.reply("r1", "t1", "Not yet."))]).comments.get("t1")?.resolved).toBe(false);
    // Stored before replies were one event: the reopening, then the reply; it folds the same.
    expect(foldDocument(DOC, [...resolved, by(COMMENTER, ev.reopened("t1")), by(COMMENTER, ev.reply("r1", "t1", "Not yet."))]).comments.get("t1")?.resolved).toBe(false);
  });

  it("given a comment, when its author edits it, then it changes; nobody else may, not even the owner", () => {
    const thread = [...team(), by(COMMENTER, ev.thread("t1")), by(EDITOR, ev.reply("r1", "t1"))];
    given(...thread).when({ type: "edit-comment", commentId: "t1", body: "Why not?", mentions: [EDITOR] }, COMMENTER).then(ev.edited("t1", "Why not?", [EDITOR]));
    given(...thread).when({ type: "edit-comment", commentId: "r1", body: "Fine.", mentions: [] }, EDITOR).then(ev.edited("r1", "Fine."));
    given(...thread).when({ type: "edit-comment", commentId: "t1", body: "x", mentions: [] }, OWNER).thenRefused("FORBIDDEN");
    given(...thread).when({ type: "edit-comment", commentId: "t1", body: "x", mentions: [STRANGER] }, COMMENTER).thenRefused("VALIDATION_FAILED");
    // A commenter who became a viewer can no longer change what they wrote.
    given(...thread, by(OWNER, { type: "doc.role-changed.v1", data: { docId: DOC, userId: COMMENTER, role: "viewer", previousRole: "commenter" } }))
      .when({ type: "edit-comment", commentId: "t1", body: "x", mentions: [] }, COMMENTER)
      .thenRefused("FORBIDDEN");
  });

  it("given a mention of a member who later left, when the author edits the text keeping it, then the edit is taken", () => {
    const thread = [...team(), by(EDITOR, ev.thread("t1", { mentions: [VIEWER] })), by(VIEWER, { type: "doc.member-removed.v1", data: { docId: DOC, userId: VIEWER, reason: "left" } })];
    given(...thread).when({ type: "edit-comment", commentId: "t1", body: "Typo fixed", mentions: [VIEWER] }, EDITOR).then(ev.edited("t1", "Typo fixed", [VIEWER]));
  });

  it("given a thread others replied in, when its author deletes its first comment, then only the owner may; alone in it, the author may", () => {
    const thread = [...team(), by(COMMENTER, ev.thread("t1")), by(EDITOR, ev.reply("r1", "t1"))];
    given(...thread).when({ type: "delete-comment", commentId: "t1" }, COMMENTER).thenRefused("FORBIDDEN");
    given(...thread).when({ type: "delete-comment", commentId: "t1" }, OWNER).then(ev.deleted("t1"));
    given(...team(), by(COMMENTER, ev.thread("t1")), by(COMMENTER, ev.reply("r1", "t1"))).when({ type: "delete-comment", commentId: "t1" }, COMMENTER).then(ev.deleted("t1"));
  });

  it("given a comment with mentions, when its author changes the text without naming mentions, then it keeps them", () => {
    given(...team(), by(EDITOR, ev.thread("t1", { mentions: [VIEWER] })))
      .when({ type: "edit-comment", commentId: "t1", body: "Typo fixed" }, EDITOR)
      .then(ev.edited("t1", "Typo fixed", [VIEWER]));
  });

  it("given comments, when deleted, then the author or the owner may; the thread goes with its first comment", () => {
    const thread = [...team(), by(COMMENTER, ev.thread("t1")), by(EDITOR, ev.reply("r1", "t1"))];
    given(...thread).when({ type: "delete-comment", commentId: "r1" }, EDITOR).then(ev.deleted("r1"));
    given(...thread).when({ type: "delete-comment", commentId: "r1" }, OWNER).then(ev.deleted("r1"));
    given(...thread).when({ type: "delete-comment", commentId: "r1" }, COMMENTER).thenRefused("FORBIDDEN");
    given(...thread).when({ type: "delete-comment", commentId: "t1" }, VIEWER).thenRefused("FORBIDDEN");
    const gone = given(...thread, by(COMMENTER, ev.deleted("t1")));
    expect([...gone.state.comments.keys()]).toEqual([]);
    gone.when({ type: "delete-comment", commentId: "r1" }, EDITOR).thenRefused("NOT_FOUND");
  });

  it("given a thread, when resolved and reopened through any of its comments, then each is one event, and doing it twice changes nothing", () => {
    const thread = [...team(), by(EDITOR, ev.thread("t1")), by(OWNER, ev.reply("r1", "t1"))];
    given(...thread).when({ type: "resolve-thread", commentId: "r1", resolved: true }, COMMENTER).then(ev.resolved("t1"));
    given(...thread).when({ type: "resolve-thread", commentId: "t1", resolved: false }, COMMENTER).thenNothing();
    given(...thread).when({ type: "resolve-thread", commentId: "t1", resolved: true }, VIEWER).thenRefused("FORBIDDEN");
    const done = [...thread, by(COMMENTER, ev.resolved("t1"))];
    given(...done).when({ type: "resolve-thread", commentId: "t1", resolved: true }, EDITOR).thenNothing();
    given(...done).when({ type: "resolve-thread", commentId: "t1", resolved: false }, EDITOR).then(ev.reopened("t1"));
  });

  it("given comments, when the document is purged, then none is left", () => {
    const state = fold([...team(), by(EDITOR, ev.thread("t1")), by(OWNER, { type: "doc.trashed.v1", data: { docId: DOC } }), by(OWNER, { type: "doc.purged.v1", data: { docId: DOC } })]);
    expect(state.comments.size).toBe(0);
  });
});
