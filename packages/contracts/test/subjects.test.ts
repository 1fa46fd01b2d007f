import { describe, expect, it } from "vitest";
import { SAFE_ID_PATTERN, isSubjectSafeId, streamOfSubject, subjectDocId, subjects } from "../src/index.ts";

describe("subjects", () => {
  describe("reading the document id back", () => {
    it("returns the id a subject was built from", () => {
      // Given subjects built for a document
      const docId = "Doc_1-abc";
      // When they are parsed, each by its own kind
      // Then the id comes back
      expect(subjectDocId.edits(subjects.edits(docId))).toBe(docId);
      expect(subjectDocId.docEvents(subjects.docEvents(docId))).toBe(docId);
      expect(subjectDocId.fileEvents(subjects.fileEvents(docId))).toBe(docId);
    });

    it("returns nothing for another kind of subject", () => {
      expect(subjectDocId.edits(subjects.docEvents("d1"))).toBeUndefined();
      expect(subjectDocId.docEvents(subjects.fileEvents("d1"))).toBeUndefined();
      expect(subjectDocId.fileEvents(subjects.edits("d1"))).toBeUndefined();
      expect(subjectDocId.docEvents("auth.evt.user.u1")).toBeUndefined();
    });

    it("returns nothing when the rest is not a single safe id", () => {
      for (const subject of ["edits.", "edits.a.b", "edits.*", "edits.>", "edits.a b", `edits.${"x".repeat(65)}`, "xedits.a", "edits"]) {
        expect(subjectDocId.edits(subject), subject).toBeUndefined();
      }
      expect(subjectDocId.edits(`edits.${"x".repeat(64)}`)).toBe("x".repeat(64));
    });
  });

  describe("the id pattern", () => {
    it("is the one JSON schemas carry, and accepts exactly subject-safe ids", () => {
      expect(SAFE_ID_PATTERN).toBe("^[A-Za-z0-9_-]{1,64}$");
      expect(isSubjectSafeId("a_B-9")).toBe(true);
      for (const bad of ["", "a.b", "a*", "a>", "a b", "é", "x".repeat(65)]) expect(isSubjectSafeId(bad), bad).toBe(false);
    });

    it("keeps subject builders from taking an unsafe id", () => {
      expect(() => subjects.edits("a.b")).toThrow(/not subject-safe/);
    });
  });

  it("knows the stream of each document subject", () => {
    expect(streamOfSubject(subjects.edits("d"))).toBe("EDITS");
    expect(streamOfSubject(subjects.docEvents("d"))).toBe("DOCS");
    expect(streamOfSubject(subjects.fileEvents("d"))).toBe("DOCS");
  });
});
