/** Prints the configuration table of every service, from the same specs the services load. */
import type { ConfigSpec } from "@palimpsest/platform";
import { configSpecs } from "../test/config-specs.ts";

const rows = new Map<string, { defaultText: string; doc: string; services: string[] }>();
for (const [service, spec] of Object.entries(configSpecs) as [string, ConfigSpec][]) {
  for (const field of Object.values(spec)) {
    const row = rows.get(field.env) ?? { defaultText: field.defaultText, doc: field.doc, services: [] };
    // A setting whose default differs per service (the port) lists each one.
    if (row.services.length > 0 && row.defaultText !== field.defaultText && !row.defaultText.includes(`${service} `)) {
      if (!row.defaultText.includes(" ")) row.defaultText = `${row.services[0]} ${row.defaultText}`;
      row.defaultText += `, ${service} ${field.defaultText}`;
      row.doc = "HTTP port of the service (health, metrics; the gateway's is the public one)";
    }
    row.services.push(service);
    rows.set(field.env, row);
  }
}
const all = Object.keys(configSpecs).length;
console.log("| variable | default | used by | meaning |");
console.log("| --- | --- | --- | --- |");
for (const [name, r] of [...rows.entries()].sort(([a], [b]) => a.localeCompare(b))) {
  const def = r.defaultText.includes("-") && name === "REPLICA_ID" ? "host name and pid" : r.defaultText;
  console.log(`| \`${name}\` | \`${def || "(empty)"}\` | ${r.services.length === all ? "all" : r.services.join(", ")} | ${r.doc} |`);
}
