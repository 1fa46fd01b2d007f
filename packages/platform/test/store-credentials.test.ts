import { describe, expect, it } from "vitest";
import { ConfigError, commonConfig, loadConfig, refuseBuiltInCredentials } from "../src/config.ts";

const own = { DATABASE_URL: "postgres://docs:s3cret@db.internal:5432/palimpsest", S3_ACCESS_KEY_ID: "AKIA1", S3_SECRET_ACCESS_KEY: "real" };

describe("built-in store credentials", () => {
  it("are refused in production, unset or set to the built-in values, naming the setting", () => {
    for (const env of [{ NODE_ENV: "production" }, { NODE_ENV: "production", DATABASE_URL: "postgres://palimpsest:palimpsest@db:5432/palimpsest", S3_ACCESS_KEY_ID: "S3RVER", S3_SECRET_ACCESS_KEY: "S3RVER" }]) {
      const config = loadConfig(commonConfig, env);
      expect(() => refuseBuiltInCredentials(config, { postgres: true, s3: true })).toThrow(ConfigError);
      expect(() => refuseBuiltInCredentials(config, { postgres: true })).toThrow(/DATABASE_URL/);
      expect(() => refuseBuiltInCredentials(config, { s3: true })).toThrow(/S3_ACCESS_KEY_ID/);
    }
  });

  it("are accepted in a local run, and a service's own ones in production", () => {
    expect(() => refuseBuiltInCredentials(loadConfig(commonConfig, {}), { postgres: true, s3: true })).not.toThrow();
    expect(() => refuseBuiltInCredentials(loadConfig(commonConfig, { NODE_ENV: "production", ...own }), { postgres: true, s3: true })).not.toThrow();
    // A service that uses no S3 is not asked for S3 credentials.
    expect(() => refuseBuiltInCredentials(loadConfig(commonConfig, { NODE_ENV: "production", DATABASE_URL: own.DATABASE_URL }), { postgres: true })).not.toThrow();
  });
});
