import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { loadAuthConfig } from "../src/config.ts";

const key = { SIGNING_KEY_ENCRYPTION_KEY: randomBytes(32).toString("base64") };

describe("REGISTRATION_CONFIRMATION", () => {
  it("unset, confirms by email in production and not in a local run (the public contract's 201)", () => {
    expect(loadAuthConfig({ ...key, NODE_ENV: "production" }).registrationConfirmation).toBe("email");
    expect(loadAuthConfig({ ...key }).registrationConfirmation).toBe("none");
    expect(loadAuthConfig({ ...key, NODE_ENV: "test" }).registrationConfirmation).toBe("none");
  });

  it("set, wins over NODE_ENV either way, and refuses anything else", () => {
    expect(loadAuthConfig({ ...key, NODE_ENV: "production", REGISTRATION_CONFIRMATION: "none" }).registrationConfirmation).toBe("none");
    expect(loadAuthConfig({ ...key, REGISTRATION_CONFIRMATION: "email" }).registrationConfirmation).toBe("email");
    expect(() => loadAuthConfig({ ...key, REGISTRATION_CONFIRMATION: "yes" })).toThrow(/REGISTRATION_CONFIRMATION must be one of none, email/);
  });

  it("the loaded config stays frozen", () => {
    expect(Object.isFrozen(loadAuthConfig({ ...key }))).toBe(true);
  });
});
