/**
 * Writes the configuration table of every service into README.md, from the same specs the
 * services load (`--print` only prints it).
 */
import fs from "node:fs";
import path from "node:path";
import type { ConfigSpec } from "@palimpsest/platform";
import { repoRoot } from "@palimpsest/devkit";
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
const lines = ["| variable | default | used by | meaning |", "| --- | --- | --- | --- |"];
for (const [name, r] of [...rows.entries()].sort(([a], [b]) => a.localeCompare(b))) {
  const def = r.defaultText.includes("-") && name === "REPLICA_ID" ? "host name and pid" : r.defaultText;
  lines.push(`| \`${name}\` | \`${def || "(empty)"}\` | ${r.services.length === all ? "all" : r.services.join(", ")} | ${r.doc} |`);
}

const table = lines.join("\n");
if (process.argv.includes("--print")) {
  console.log(table);
} else {
  const readmePath = path.join(repoRoot, "README.md");
  const readme = fs.readFileSync(readmePath, "utf8");
  const next = readme.replace(/(<!-- config-table[^\n]*-->\n)[\s\S]*?(\n<!-- \/config-table -->)/, `$1${table}$2`);
  fs.writeFileSync(readmePath, next);
  console.log("README.md configuration table updated");
}
