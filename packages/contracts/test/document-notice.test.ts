import { describe, expect, it } from "vitest";
import { DOCUMENT_CHANGED_FIELD, documentChangedIn } from "../src/shared.ts";

const state = (notice: unknown) => ({ [DOCUMENT_CHANGED_FIELD]: notice });

describe("the server's document notice in an awareness state", () => {
  it("reads a rename or an access change with the version it made, and without one from an older server", () => {
    expect(documentChangedIn(state({ what: "renamed", at: 5, version: 42 }))).toEqual({ what: "renamed", at: 5, version: 42 });
    expect(documentChangedIn(state({ what: "access", at: 5, version: 7 }))).toEqual({ what: "access", at: 5, version: 7 });
    expect(documentChangedIn(state({ what: "renamed", at: 5 }))).toEqual({ what: "renamed", at: 5 });
  });

  it("reads a restore with who made it", () => {
    expect(documentChangedIn(state({ what: "restored", at: 5, by: "u1" }))).toEqual({ what: "restored", at: 5, by: "u1" });
  });

  it("ignores a version that is not a positive whole number, and a state that holds no notice", () => {
    for (const version of [0, -1, 1.5, "42", null, Number.MAX_VALUE]) {
      expect(documentChangedIn(state({ what: "renamed", at: 5, version }))).toEqual({ what: "renamed", at: 5 });
    }
    for (const s of [null, 3, {}, state(null), state({ what: "renamed" }), state({ what: "other", at: 1 }), state({ what: "restored", at: 1 })]) {
      expect(documentChangedIn(s)).toBeUndefined();
    }
  });
});
