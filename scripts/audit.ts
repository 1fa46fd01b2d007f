/**
 * The offline audit tool: no server, no network, only the file.
 *
 *   npm run audit -- verify <file> [--keys <audit-keys.json>]
 *                                               checks the header, both hash chains, sequence continuity,
 *                                               the time order of the merge, that each signed checkpoint
 *                                               matches the chain where it stands, and the end line; with
 *                                               --keys (the saved /.well-known/audit-keys.json) also each
 *                                               checkpoint's signature and that one covers the last edit;
 *                                               prints OK with counts, or the first broken sequence and why (exit 1)
 *                                               a workspace's trail (GET /api/workspaces/:id/audit, told by its
 *                                               header) is checked the same way: both chains, redaction, the
 *                                               signed checkpoint of both heads (with --keys), the end line
 *   npm run audit -- print <file> [--at <seq>]  verifies the trail up to edit <seq> and prints the document
 *                                               as it was then (the last edit when --at is left out):
 *                                               rich text as plain text, a board as JSON
 *
 * Exit codes: 0 OK, 1 the trail is broken (or has fewer edits than asked), 2 usage or file errors.
 */
import fs from "node:fs";
import * as Y from "yjs";
import { WORKSPACE_AUDIT_FORMAT, parseAuditKeySet, type AuditPublicKey } from "@palimpsest/contracts";
import { describeFailure, fileLines, formatOf, verifyTrail, verifyWorkspaceTrail } from "./audit-trail.ts";
import { renderDocument } from "@palimpsest/history/operations";

const USAGE = "usage: npm run audit -- verify <file> [--keys <audit-keys.json>]\n       npm run audit -- print <file> [--at <seq>]";

function usage(message?: string): never {
  if (message) console.error(message);
  console.error(USAGE);
  process.exit(2);
}

/** The file's first line (up to 1 MiB of it), to tell a workspace trail from a document's. */
function firstLine(file: string): string {
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.alloc(1024 * 1024);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    const text = buf.subarray(0, n).toString("utf8");
    const end = text.indexOf("\n");
    return end === -1 ? text : text.slice(0, end);
  } finally {
    fs.closeSync(fd);
  }
}

async function verifyWorkspace(file: string, keys: AuditPublicKey[] | undefined): Promise<number> {
  const result = await verifyWorkspaceTrail(fileLines(file), keys ? { keys } : {});
  if (!result.ok) {
    console.log(describeFailure(result));
    return 1;
  }
  console.log(
    `OK: workspace ${result.workspaceId}: ${result.workspaceEvents} workspace events and ${result.accountEvents} account events of its ${result.members} members verified; ` +
      `workspace chain head ${result.workspaceHead}, account chain head ${result.accountHead}`,
  );
  console.log(
    result.checkpointsVerified
      ? `OK: ${result.checkpoints} signed checkpoint(s) verified with the given keys; the last covers both chains' heads`
      : `NOTE: ${result.checkpoints} signed checkpoint(s) match the chains, but their signatures were not checked: pass --keys <audit-keys.json>`,
  );
  return 0;
}

async function verify(file: string, keys: AuditPublicKey[] | undefined): Promise<number> {
  if (formatOf(firstLine(file)) === WORKSPACE_AUDIT_FORMAT) return verifyWorkspace(file, keys);
  const t0 = performance.now();
  const result = await verifyTrail(fileLines(file), keys ? { keys } : {});
  const seconds = (performance.now() - t0) / 1000;
  if (!result.ok) {
    console.log(describeFailure(result));
    return 1;
  }
  console.log(
    `OK: document ${result.docId}: ${result.edits} edits (seq 1..${result.edits}) and ${result.events} metadata events verified ` +
      `in ${seconds.toFixed(2)} s; edit chain head ${result.editHead}, event chain head ${result.eventHead}`,
  );
  console.log(
    result.checkpointsVerified
      ? `OK: ${result.checkpoints} signed checkpoint(s) verified with the given keys; the last covers edit seq ${result.edits}`
      : `NOTE: ${result.checkpoints} signed checkpoint(s) match the chain, but their signatures were not checked: pass --keys <audit-keys.json>`,
  );
  return 0;
}

async function print(file: string, at: number | undefined): Promise<number> {
  const doc = new Y.Doc();
  const result = await verifyTrail(fileLines(file), {
    onEdit: (e) => {
      if (at === 0) return "stop"; // the header (and edit 1) checked; nothing to apply
      Y.applyUpdate(doc, e.update);
      return e.seq === at ? "stop" : undefined;
    },
  });
  if (!result.ok) {
    console.error(describeFailure(result));
    return 1;
  }
  if (at !== undefined && result.edits < at) {
    console.error(`the trail has ${result.edits} edits; there is no seq ${at}`);
    return 1;
  }
  const rendered = renderDocument(doc);
  const out = rendered.board !== undefined && rendered.text === "" ? JSON.stringify(rendered.board, null, 2) : rendered.text;
  process.stdout.write(`${out}\n`);
  return 0;
}

const [command, file, ...rest] = process.argv.slice(2);
if (command !== "verify" && command !== "print") usage(command ? `unknown command ${command}` : undefined);
if (!file) usage("name the audit file");
if (!fs.existsSync(file)) usage(`no such file: ${file}`);
let at: number | undefined;
let keys: AuditPublicKey[] | undefined;
for (let i = 0; i < rest.length; i++) {
  if (rest[i] === "--keys" && command === "verify") {
    const f = rest[++i];
    if (f === undefined || !fs.existsSync(f)) usage(f === undefined ? "--keys takes the saved audit-keys.json" : `no such file: ${f}`);
    let parsed: AuditPublicKey[] | string;
    try {
      parsed = parseAuditKeySet(JSON.parse(fs.readFileSync(f, "utf8")));
    } catch {
      parsed = "not JSON";
    }
    if (typeof parsed === "string") usage(`${f}: ${parsed}`);
    keys = parsed;
  } else if (rest[i] === "--at" && command === "print") {
    const v = rest[++i];
    if (v === undefined || !/^\d+$/.test(v)) usage("--at takes a sequence number (0 for the empty document)");
    at = Number(v);
  } else {
    usage(`unexpected argument ${rest[i]}`);
  }
}
process.exitCode = command === "verify" ? await verify(file, keys) : await print(file, at);
