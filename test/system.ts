import path from "node:path";
import fs from "node:fs";
import { inject } from "vitest";
import { startSystem, type RunningSystem, type SystemOptions } from "@palimpsest/platform/testing";

/**
 * Tests register many users from one address, so the limits are lifted unless a test sets them;
 * signing keys are re-read often so a rotation is seen within a test.
 */
const testDefaults = {
  RATE_LIMIT_AUTH_PER_WINDOW: "100000",
  RATE_LIMIT_USER_PER_WINDOW: "100000",
  RATE_LIMIT_COLLAB_CONNECTS_PER_WINDOW: "100000",
  SIGNING_KEY_CACHE_MS: "200",
};

/** Starts the services for one test file against the run's stores; logs go under the run's data folder. */
export async function startTestSystem(name: string, opts: Omit<SystemOptions, "storeEnv" | "logDir"> = {}): Promise<RunningSystem> {
  const logDir = path.join(inject("dataDir"), "logs", name);
  fs.mkdirSync(logDir, { recursive: true });
  return startSystem({ ...opts, env: { ...testDefaults, ...opts.env }, storeEnv: inject("storeEnv"), logDir });
}
