import { describe, expect, it } from "vitest";
import { ConfigError } from "@palimpsest/platform";
import { loadGatewayConfig } from "../src/config.ts";
import { bodyTooSlow } from "../src/upload-slots.ts";
import { accountKey } from "../src/login-lockout.ts";

describe("TRUST_PROXY", () => {
  it("is off, a number of proxies in front, or their addresses; `true` means one proxy, never the whole header", () => {
    expect(loadGatewayConfig({}).trustProxy).toBe(false);
    expect(loadGatewayConfig({ TRUST_PROXY: "false" }).trustProxy).toBe(false);
    expect(loadGatewayConfig({ TRUST_PROXY: "true" }).trustProxy).toBe(1);
    expect(loadGatewayConfig({ TRUST_PROXY: "2" }).trustProxy).toBe(2);
    expect(loadGatewayConfig({ TRUST_PROXY: "10.0.0.0/8, 192.168.1.7,fd00::/8" }).trustProxy).toEqual(["10.0.0.0/8", "192.168.1.7", "fd00::/8"]);
  });

  it("refuses anything else, naming it", () => {
    for (const bad of ["maybe", "10.0.0.0/33", "10.0.0.1/8/2", "11", "example.com"]) {
      expect(() => loadGatewayConfig({ TRUST_PROXY: bad }), bad).toThrow(ConfigError);
    }
  });
});

describe("upload bodies", () => {
  const limits = { graceMs: 10_000, minBytesPerSecond: 32 * 1024 };
  it("may take the grace for nothing, then must keep up the rate on average", () => {
    expect(bodyTooSlow(9_000, 0, limits)).toBe(false);
    expect(bodyTooSlow(10_500, 0, limits)).toBe(true);
    expect(bodyTooSlow(20_000, 32 * 1024 * 10, limits)).toBe(false);
    expect(bodyTooSlow(20_000, 32 * 1024 * 9, limits)).toBe(true);
  });
});

describe("sign-in lockout keys", () => {
  it("are the same account however its email is typed, and do not hold the address itself", () => {
    expect(accountKey(" Ada@Example.test ")).toBe(accountKey("ada@example.test"));
    expect(accountKey("ada@example.test")).not.toBe(accountKey("bob@example.test"));
    expect(accountKey("ada@example.test")).not.toContain("ada");
  });
});
