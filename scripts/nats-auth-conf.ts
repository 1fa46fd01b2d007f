/**
 * Writes deploy/k8s/base/nats/auth.conf, the NATS users and their permissions for Kubernetes,
 * from the one definition in packages/platform/src/bus-permissions.ts. Each password is read by
 * nats-server from its environment (NATS_PASSWORD_<USER>, from the Secret
 * palimpsest-nats-credentials). `--check` only says whether the file is up to date.
 */
import fs from "node:fs";
import path from "node:path";
import { k8sAuthConf, k8sAuthConfPath } from "../packages/platform/src/bus-permissions.ts";
import { repoRoot } from "@palimpsest/devkit";

const file = path.join(repoRoot, k8sAuthConfPath);
const want = k8sAuthConf();
if (process.argv.includes("--check")) {
  const have = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  if (have !== want) {
    console.error(`${k8sAuthConfPath} is out of date: run npm run deploy:nats-auth`);
    process.exit(1);
  }
  console.log(`${k8sAuthConfPath} is up to date`);
} else {
  fs.writeFileSync(file, want);
  console.log(`wrote ${k8sAuthConfPath}`);
}
