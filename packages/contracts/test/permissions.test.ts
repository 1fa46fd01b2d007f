import { describe, expect, it } from "vitest";
import { Role, Permissions, Roles, can, canManageMembers, canRead, canReadHistory, canShare, canWrite, isRole, type Permission } from "../src/shared.ts";

describe("document permissions", () => {
  it("given the role schema, when the roles are listed, then every stored role is there once, the owner first", () => {
    expect(Roles).toEqual(Role.anyOf.map((literal) => literal.const));
    expect(new Set(Roles).size).toBe(Roles.length);
    expect(Roles[0]).toBe("owner");
  });

  it("given an owner or an editor, when they edit, then they may; given a commenter, a viewer or an auditor, then they may only read", () => {
    expect(Roles.filter(canWrite)).toEqual(["owner", "editor"]);
    expect(Roles.filter(canRead)).toEqual(["owner", "editor", "commenter", "viewer", "auditor"]);
  });

  it("given the history, when asked who reads it, then owners, editors and auditors; viewers and commenters see the document as it is now", () => {
    expect(Roles.filter(canReadHistory)).toEqual(["owner", "editor", "auditor"]);
  });

  it("given an auditor, when anything is asked, then they read the document and its history and change nothing", () => {
    expect((Object.keys(Permissions) as Permission[]).filter((p) => can("auditor", p))).toEqual(["read", "history"]);
  });

  it("given a stranger (no role), when anything is asked, then nothing is allowed", () => {
    for (const permission of Object.keys(Permissions) as Permission[]) {
      expect(can(undefined, permission)).toBe(false);
      expect(can(null, permission)).toBe(false);
    }
    expect(canRead(null)).toBe(false);
    expect(canWrite(undefined)).toBe(false);
  });

  it("given the sharing rules, when checked, then owners and editors share and only the owner manages members, trashes and transfers", () => {
    expect(Roles.filter(canShare)).toEqual(["owner", "editor"]);
    expect(Roles.filter(canManageMembers)).toEqual(["owner"]);
    expect(Roles.filter((r) => can(r, "rename"))).toEqual(["owner", "editor"]);
    expect(Roles.filter((r) => can(r, "trash"))).toEqual(["owner"]);
    expect(Roles.filter((r) => can(r, "transfer"))).toEqual(["owner"]);
  });

  it("given any permission, when granted to a role of the ranked ones, then every more able role has it too", () => {
    // The auditor stands apart: it reads more than a viewer (the history) and may change nothing.
    const ranked = Roles.filter((r) => r !== "auditor");
    for (const permission of Object.keys(Permissions) as Permission[]) {
      const allowed = ranked.map((r) => can(r, permission));
      // In rank order, once a role lacks a permission no role below it has it.
      expect(allowed).toEqual([...allowed].sort((a, b) => Number(b) - Number(a)));
    }
  });

  it("given untrusted values, when checked as roles, then only the stored role names pass", () => {
    expect(Roles.every(isRole)).toBe(true);
    for (const value of ["Owner", "admin", "", null, undefined, 1, {}]) expect(isRole(value)).toBe(false);
  });
});
