import { describe, expect, it } from "vitest";
import { UserConnections } from "../src/user-connections.ts";

describe("UserConnections", () => {
  it("given a user at the connection limit, when they open one more, then it is refused until one closes", () => {
    const u = new UserConnections(2, 10);
    expect(u.open("ann", "d1")).toBeNull();
    expect(u.open("ann", "d1")).toBeNull();
    expect(u.open("ann", "d2")).toMatch(/too many open connections/);
    // Another user is not affected.
    expect(u.open("bob", "d1")).toBeNull();
    u.close("ann", "d1");
    expect(u.open("ann", "d2")).toBeNull();
  });

  it("given a user at the document limit, when they open another document, then it is refused, while more connections to an open one are not", () => {
    const u = new UserConnections(10, 2);
    expect(u.open("ann", "d1")).toBeNull();
    expect(u.open("ann", "d2")).toBeNull();
    expect(u.open("ann", "d3")).toMatch(/too many open documents/);
    expect(u.open("ann", "d2")).toBeNull();
    u.close("ann", "d1");
    expect(u.open("ann", "d3")).toBeNull();
  });

  it("given a refused connection, when it goes away, then nothing was counted for it", () => {
    const u = new UserConnections(1, 1);
    expect(u.open("ann", "d1")).toBeNull();
    expect(u.open("ann", "d1")).not.toBeNull();
    u.close("ann", "d1");
    expect(u.open("ann", "d2")).toBeNull();
  });
});
