import { describe, expect, it } from "vitest";
import { isClientRoute } from "../src/static-files.ts";

describe("isClientRoute", () => {
  it("given a page of the app (a document, a board, the root), when it is fetched, then index.html answers it", () => {
    for (const path of ["/", "/d/abc", "/b/xyz", "/settings/sessions"]) {
      expect(isClientRoute("GET", path)).toBe(true);
      expect(isClientRoute("HEAD", path)).toBe(true);
    }
  });

  it("given an API, /collab or .well-known path, when no route matched it, then it stays a 404", () => {
    for (const path of ["/api/nope", "/collab/doc", "/.well-known/other"]) expect(isClientRoute("GET", path)).toBe(false);
  });

  it("given a missing file (a replaced bundle, a favicon), when it is fetched, then it is a 404 rather than the app page", () => {
    for (const path of ["/assets/index-old.js", "/favicon.ico", "/d/abc.json"]) expect(isClientRoute("GET", path)).toBe(false);
  });

  it("given a write method, when no route matched it, then it is a 404", () => {
    expect(isClientRoute("POST", "/d/abc")).toBe(false);
    expect(isClientRoute("DELETE", "/")).toBe(false);
  });
});
