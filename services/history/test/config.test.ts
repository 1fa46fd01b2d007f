import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError } from "@palimpsest/platform";
import { loadHistoryConfig, refuseBuiltInAuditKeyEncryption } from "../src/config.ts";

describe("AUDIT_KEY_ENCRYPTION_KEY", () => {
  it("given nothing set, when a local run loads its config, then it seals with the built-in key, which production refuses", () => {
    const local = loadHistoryConfig({});
    expect(local.auditKeyEncryptionKeys).toHaveLength(1);
    expect(() => refuseBuiltInAuditKeyEncryption(local)).not.toThrow();
    expect(() => refuseBuiltInAuditKeyEncryption(loadHistoryConfig({ NODE_ENV: "production" }))).toThrow(ConfigError);
  });

  it("given a key of its own, when production loads it, then it is used first and accepted", () => {
    const own = randomBytes(32).toString("base64");
    const config = loadHistoryConfig({ NODE_ENV: "production", AUDIT_KEY_ENCRYPTION_KEY: `${own},${randomBytes(32).toString("base64")}` });
    expect(config.auditKeyEncryptionKeys[0]).toBe(own);
    expect(() => refuseBuiltInAuditKeyEncryption(config)).not.toThrow();
  });

  it("given a key that is not 32 bytes of base64, when the config loads, then it stops with the reason", () => {
    expect(() => loadHistoryConfig({ AUDIT_KEY_ENCRYPTION_KEY: "c2hvcnQ=" })).toThrow(/AUDIT_KEY_ENCRYPTION_KEY entry 1 is not a base64 key of 32 bytes/);
  });

  it("given checkpoint and rotation settings, when they are out of range, then the config refuses them", () => {
    expect(loadHistoryConfig({}).auditCheckpointEverySeconds).toBe(300);
    expect(() => loadHistoryConfig({ AUDIT_CHECKPOINT_EVERY_SECONDS: "0" })).toThrow(ConfigError);
    expect(() => loadHistoryConfig({ AUDIT_KEY_ROTATION_DAYS: "0" })).toThrow(ConfigError);
  });
});
