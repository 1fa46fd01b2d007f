import path from "node:path";
import fs from "node:fs";
import { inject } from "vitest";
import { startSystem, type RunningSystem, type SystemOptions } from "@palimpsest/platform/testing";

/** Starts the services for one test file against the run's stores; logs go under the run's data folder. */
export async function startTestSystem(name: string, opts: Omit<SystemOptions, "storeEnv" | "logDir"> = {}): Promise<RunningSystem> {
  const logDir = path.join(inject("dataDir"), "logs", name);
  fs.mkdirSync(logDir, { recursive: true });
  return startSystem({ ...opts, storeEnv: inject("storeEnv"), logDir });
}
