// The chaos proof, bounded: see test/chaos.ts. `npm run chaos` runs the same with longer typing
// and prints the figures per fault.

import { describe, expect, it } from "vitest";
import { allFaults, runChaos } from "./chaos.ts";

describe("chaos on a 3-node JetStream cluster, 2 sync replicas and 2 gateways", () => {
  it("loses no confirmed edit through each fault; clients converge, the edit log has no gaps, the killed pieces rejoin", { timeout: 600_000 }, async () => {
    const reports = await runChaos({ clients: 4, typeBeforeMs: 1_500, typeAfterMs: 7_000 });
    expect(reports.map((r) => r.fault)).toEqual(allFaults);
    for (const r of reports) {
      expect(r.lost, r.fault).toBe(0);
      expect(r.confirmed, r.fault).toBeGreaterThan(0);
      expect(r.rejoined.length, r.fault).toBeGreaterThan(0);
      expect(r.historyVersions, r.fault).toBeGreaterThan(0);
    }
    expect(reports.find((r) => r.fault === "nats-node-and-sync")?.rejoined).toHaveLength(2);
  });
});
