import { describe, expect, it } from "vitest";
import { ConfigError, env, loadConfig } from "../src/config.ts";

const spec = {
  port: env.int("PORT", 8080, "port", { min: 1, max: 65535 }),
  url: env.url("SOME_URL", "http://localhost", "a url"),
  flag: env.bool("FLAG", false, "a flag"),
  list: env.list("LIST", ["a"], "a list"),
} as const;

describe("config", () => {
  it("uses defaults, parses values and freezes the result", () => {
    const cfg = loadConfig(spec, { PORT: "9000", FLAG: "yes", LIST: "x, y,,z" });
    expect(cfg).toEqual({ port: 9000, url: "http://localhost", flag: true, list: ["x", "y", "z"] });
    expect(Object.isFrozen(cfg)).toBe(true);
    expect(Object.isFrozen(cfg.list)).toBe(true);
  });

  it("reports every problem at once", () => {
    try {
      loadConfig(spec, { PORT: "http", SOME_URL: "not a url", FLAG: "maybe" });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toHaveLength(3);
    }
  });

  it("enforces bounds", () => {
    expect(() => loadConfig(spec, { PORT: "70000" })).toThrow(/PORT must be <= 65535/);
  });
});
