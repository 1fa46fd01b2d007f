import { describe, expect, it } from "vitest";
import {
  ApiTokenScopes,
  Permissions,
  Roles,
  can,
  canWithScopes,
  formatApiToken,
  isApiToken,
  parseApiToken,
  roleAllowedByScopes,
  type ApiTokenScope,
  type Permission,
} from "../src/shared.ts";

/** Every non-empty set of scopes. */
const scopeSets: ApiTokenScope[][] = [1, 2, 3, 4, 5, 6, 7].map((mask) => ApiTokenScopes.filter((_, i) => mask & (1 << i)));

describe("API token scopes cap the owner's role", () => {
  it("given a signed-in session (no scopes), when its role is capped, then it keeps its role", () => {
    for (const role of Roles) expect(roleAllowedByScopes(role, undefined)).toBe(role);
  });

  it("given each scope alone, when an owner uses it, then read acts as viewer, comment as commenter, write as editor", () => {
    expect(roleAllowedByScopes("owner", ["read"])).toBe("viewer");
    expect(roleAllowedByScopes("owner", ["comment"])).toBe("commenter");
    expect(roleAllowedByScopes("owner", ["write"])).toBe("editor");
    expect(roleAllowedByScopes("owner", ["read", "comment", "write"])).toBe("editor");
  });

  it("given any scopes, when the owner's role is lower, then the token never has more than that role", () => {
    for (const scopes of scopeSets) {
      for (const role of Roles) {
        const acting = roleAllowedByScopes(role, scopes);
        expect(acting).not.toBeNull();
        expect(Roles.indexOf(acting!)).toBeGreaterThanOrEqual(Roles.indexOf(role));
      }
    }
    expect(roleAllowedByScopes("viewer", ["write"])).toBe("viewer");
    expect(roleAllowedByScopes("commenter", ["write"])).toBe("commenter");
  });

  it("given no role or no scopes, when capped, then nothing is allowed", () => {
    expect(roleAllowedByScopes(null, ["write"])).toBeNull();
    expect(roleAllowedByScopes(undefined, ["read"])).toBeNull();
    expect(roleAllowedByScopes("owner", [])).toBeNull();
  });

  it("given a token, when it asks for a document's management, then it is never allowed, whatever its scopes and role", () => {
    const management = (Object.keys(Permissions) as Permission[]).filter((p) => !["read", "write", "comment"].includes(p));
    expect(management.length).toBeGreaterThan(0);
    for (const scopes of scopeSets) for (const p of management) expect(canWithScopes("owner", p, scopes)).toBe(false);
    // Without a token the role decides alone.
    for (const p of management) expect(canWithScopes("owner", p, undefined)).toBe(can("owner", p));
  });

  it("given an owner's token, when it reads, comments or writes, then its scopes decide", () => {
    expect(canWithScopes("owner", "write", ["read"])).toBe(false);
    expect(canWithScopes("owner", "comment", ["read"])).toBe(false);
    expect(canWithScopes("owner", "read", ["read"])).toBe(true);
    expect(canWithScopes("owner", "comment", ["comment"])).toBe(true);
    expect(canWithScopes("owner", "write", ["comment"])).toBe(false);
    expect(canWithScopes("owner", "write", ["write"])).toBe(true);
    expect(canWithScopes("viewer", "write", ["write"])).toBe(false);
  });
});

describe("API token format", () => {
  const secret = "A".repeat(42) + "_";

  it("given a token as formatted, when parsed, then its id and secret come back, and it reads as an API token", () => {
    const token = formatApiToken("0b8c2c6e-4d1a-4f0e-9a7b-1c2d3e4f5a6b", secret);
    expect(token.startsWith("pal_")).toBe(true);
    expect(isApiToken(token)).toBe(true);
    expect(parseApiToken(token)).toEqual({ tokenId: "0b8c2c6e-4d1a-4f0e-9a7b-1c2d3e4f5a6b", secret });
  });

  it("given malformed tokens, when parsed, then none is accepted; a JWT does not read as an API token", () => {
    for (const bad of ["pal_", "pal_id", "pal_id_short", `pal__${secret}`, `pal_id_${secret}x`, `xpal_id_${secret}`, `pal_a b_${secret}`]) expect(parseApiToken(bad)).toBeNull();
    expect(isApiToken("eyJhbGciOiJFZERTQSJ9.e30.sig")).toBe(false);
  });
});
