/**
 * The chaos proof with its figures: on a local 3-node JetStream cluster, two sync replicas and two
 * gateways, clients type through /collab while the EDITS stream's leader, a sync replica, a
 * gateway, and a NATS node with a sync replica are SIGKILLed in turn (test/chaos.ts).
 * Usage: npm run chaos [-- --clients 8 --seconds 10]
 */
import os from "node:os";
import { runChaos } from "../test/chaos.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const clients = arg("clients", 6);
const seconds = arg("seconds", 10);
console.log(`chaos: ${clients} clients typing a token every 40 ms each, ${seconds} s after each fault; ${os.cpus().length} cores, node ${process.version}`);
const reports = await runChaos({ clients, typeBeforeMs: 3_000, typeAfterMs: seconds * 1000, log: (l) => console.error(l) });
console.log("");
console.log("| fault | edits confirmed | edits lost | edits stored | seconds without service (worst client) | seconds to converge | edit log versions | rejoined |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
for (const r of reports) {
  console.log(`| ${r.fault} | ${r.confirmed} | ${r.lost} | ${r.stored} | ${r.secondsWithoutService.toFixed(1)} | ${r.secondsToConverge.toFixed(1)} | ${r.historyVersions} | ${r.rejoined.join(", ")} |`);
}
process.exit(reports.every((r) => r.lost === 0) ? 0 : 1);
