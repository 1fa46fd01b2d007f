import { describe, it } from "vitest";
import type { DocEventData } from "../src/domain/document.ts";
import { givenDocument } from "./given-document.ts";

/**
 * Commands through an API token in the document aggregate: given(events) / when(command by actor,
 * through a token with scopes) / then(events, or a refusal with its stable code).
 */

const DOC = "doc-1";
const OWNER = "u-owner";
const VIEWER = "u-viewer";
const given = givenDocument(DOC);
const created: DocEventData = { type: "doc.created.v1", data: { docId: DOC, title: "Plan", kind: "text", ownerId: OWNER } };
const sharedWithViewer: DocEventData = { type: "doc.shared.v1", data: { docId: DOC, userId: VIEWER, role: "viewer" } };
const comment = { type: "add-comment", commentId: "c1", body: "Looks good", mentions: [] } as const;
const commented: DocEventData = { type: "comment.created.v1", data: { docId: DOC, commentId: "c1", body: "Looks good", mentions: [] } };

describe("commands through an API token", () => {
  it("given an owner's write token, when it names a version or comments, then it may, as an editor would", () => {
    given(created).when({ type: "name-version", name: "v1", seq: 0 }, OWNER, ["write"]).then({ type: "doc.version-named.v1", data: { docId: DOC, name: "v1", seq: 0 } });
    given(created).when(comment, OWNER, ["write"]).then(commented);
  });

  it("given an owner's read token, when it comments or writes, then it is refused; a comment token comments but does not write", () => {
    given(created).when(comment, OWNER, ["read"]).thenRefused("FORBIDDEN");
    given(created).when({ type: "name-version", name: "v1", seq: 0 }, OWNER, ["read"]).thenRefused("FORBIDDEN");
    given(created).when(comment, OWNER, ["comment"]).then(commented);
    given(created).when({ type: "name-version", name: "v1", seq: 0 }, OWNER, ["comment"]).thenRefused("FORBIDDEN");
  });

  it("given a viewer's write token, when it comments, then it is refused: a token never exceeds its owner's role", () => {
    given(created, sharedWithViewer).when(comment, VIEWER, ["read", "comment", "write"]).thenRefused("FORBIDDEN");
  });

  it("given an owner's token with every scope, when it renames, shares, trashes, transfers or leaves, then it is not allowed", () => {
    const doc = given(created, sharedWithViewer);
    doc.when({ type: "rename", title: "Other" }, OWNER, ["write"]).thenRefused("API_TOKEN_NOT_ALLOWED");
    doc.when({ type: "share-with-user", userId: "u-new", role: "editor" }, OWNER, ["write"]).thenRefused("API_TOKEN_NOT_ALLOWED");
    doc.when({ type: "change-role", userId: VIEWER, role: "editor" }, OWNER, ["write"]).thenRefused("API_TOKEN_NOT_ALLOWED");
    doc.when({ type: "remove-member", userId: VIEWER }, OWNER, ["write"]).thenRefused("API_TOKEN_NOT_ALLOWED");
    doc.when({ type: "trash" }, OWNER, ["write"]).thenRefused("API_TOKEN_NOT_ALLOWED");
    doc.when({ type: "purge" }, OWNER, ["write"]).thenRefused("API_TOKEN_NOT_ALLOWED");
    doc.when({ type: "transfer-ownership", toUserId: VIEWER }, OWNER, ["write"]).thenRefused("API_TOKEN_NOT_ALLOWED");
    doc.when({ type: "leave" }, VIEWER, ["write"]).thenRefused("API_TOKEN_NOT_ALLOWED");
  });

  it("given a token, when it creates a document, then it needs the write scope", () => {
    given().when({ type: "create", title: "Bot's", kind: "text" }, OWNER, ["write"]).then({ type: "doc.created.v1", data: { docId: DOC, title: "Bot's", kind: "text", ownerId: OWNER } });
    given().when({ type: "create", title: "Bot's", kind: "text" }, OWNER, ["read", "comment"]).thenRefused("FORBIDDEN");
  });
});
