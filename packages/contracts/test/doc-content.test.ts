import { describe, expect, it } from "vitest";
import { DocFields, EDIT_SESSION_GAP_MS, isRestoreClient, restoreClientId } from "../src/shared.ts";

describe("names shared by stored documents, history and the web app", () => {
  it("given a restore, when its client id is made, then history recognises it and no ordinary client id passes", () => {
    expect(isRestoreClient(restoreClientId("0b8e"))).toBe(true);
    expect(restoreClientId("0b8e")).toBe("restore:0b8e");
    for (const other of ["12345", "web:restore:1", "", null, undefined]) expect(isRestoreClient(other)).toBe(false);
  });

  it("given stored documents, when their shared types are named, then the names are the ones already stored", () => {
    expect(DocFields).toEqual({ richText: "default", plainText: "t", board: "board" });
    expect(EDIT_SESSION_GAP_MS).toBe(300_000);
  });
});
