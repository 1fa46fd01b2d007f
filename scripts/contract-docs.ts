/**
 * Writes the parts of docs/ that packages/contracts defines, so they cannot drift from the code:
 * docs/events.md (every stored event type, its subject and its payload, from the event schemas and
 * their doc comments) and the close-code table in docs/collab-protocol.md (from the error registry).
 * `npm run docs:contracts` writes both; `--check` fails when either is stale, as test/docs.test.ts does.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import type { TSchema } from "@sinclair/typebox";
import {
  EditHeaders,
  ErrorCodes,
  EventEnvelope,
  EventHeaders,
  EventPayloads,
  CloseCodes,
  isRefusalClose,
  streamOfSubject,
  subjects,
  type EventType,
} from "@palimpsest/contracts";
import { streamConfigs } from "@palimpsest/platform";

export const repoRoot = fileURLToPath(new URL("../", import.meta.url));
const EVENTS_SOURCE = "packages/contracts/src/events.ts";
export const EVENTS_DOC = "docs/events.md";
export const PROTOCOL_DOC = "docs/collab-protocol.md";

/**
 * Where each family of events is stored and who appends it. The schemas do not say, so this is
 * the one place that does; an event type no family claims stops the script (and the test).
 */
const families: { prefix: string; subject: string; producer: string; note?: string }[] = [
  {
    prefix: "user.registration-",
    subject: subjectPattern(subjects.registration, "emailHash"),
    producer: "auth",
    note: "registrations confirmed by email (REGISTRATION_CONFIRMATION=email): the requests and notices for one address, beside its claim rather than on it, so the claim's first message stays the registration.",
  },
  { prefix: "user.password-", subject: subjectPattern(subjects.user, "userId"), producer: "auth" },
  {
    prefix: "user.",
    subject: subjectPattern(subjects.userByEmail, "emailHash"),
    producer: "auth",
    note: "`emailHash` is the SHA-256 (hex) of the normalised email: the registration claims the email, so of two registrations of one email exactly one is stored (expected sequence 0).",
  },
  { prefix: "session.", subject: subjectPattern(subjects.session, "sessionId"), producer: "auth" },
  { prefix: "api-token.", subject: subjectPattern(subjects.apiToken, "tokenId"), producer: "auth" },
  {
    prefix: "doc.erased.",
    subject: subjectPattern(subjects.erasure, "docId"),
    producer: "history",
    note: "the tombstone of a purged document's erasure, stored once (expected sequence 0) on a subject only history may write.",
  },
  {
    prefix: "doc.",
    subject: subjectPattern(subjects.docEvents, "docId"),
    producer: "docs",
    note: "the document aggregate's subject: each append names the sequence it was decided on, so of two concurrent commands one is stored and the other is a 409.",
  },
  {
    prefix: "webhook.",
    subject: subjectPattern(subjects.docEvents, "docId"),
    producer: "docs",
    note: "webhooks are part of the document aggregate (owner only, at most ten per document). No event holds a signing secret: each is derived from the docs service's WEBHOOK_SIGNING_KEY and the webhook's id. A webhook's URL is sealed in its event (only the docs service opens it: a hook's path is often its receiver's credential, and these events are in the exported audit trail); its host is in clear, and is what the activity shows. Deliveries and their attempts are the docs service's own records, not events.",
  },
  {
    prefix: "comment.",
    subject: subjectPattern(subjects.docEvents, "docId"),
    producer: "docs",
    note: "comments are part of the document aggregate, on its subject: in its activity and audit trail, and decided with its members and roles. Two comments at once conflict on the expected sequence; the docs service decides the loser again, so a comment only fails when the document changed in a way that refuses it.",
  },
  {
    prefix: "workspace.",
    subject: subjectPattern(subjects.workspaceEvents, "workspaceId"),
    producer: "docs",
    note: "the workspace aggregate's subject, in the DOCS stream beside its documents' so access (a document's shares and its workspace's members) is read in one order. A workspace role gives a role on each of its documents (owner and admin: owner, member: editor, auditor: auditor, guest: none); a document's own share adds to it. A document joins or leaves a workspace by `doc.moved.v1` on its own subject.",
  },
  {
    prefix: "notification.",
    subject: subjectPattern(subjects.inbox, "userId"),
    producer: "docs",
    note: "a person's inbox: only what they did with their notifications. The notifications themselves are a read model of the documents' events (mentions, replies, shares).",
  },
  {
    prefix: "file.",
    subject: subjectPattern(subjects.fileEvents, "docId"),
    producer: "files",
    note: "beside the document's events in the DOCS stream, on a subject of its own, so attaching a file does not move the document's version.",
  },
];

/** What each edit header carries; a header added to the contract without a line here stops the script. */
const editHeaderMeaning: Record<keyof typeof EditHeaders, string> = {
  author: "user id of the person who made the edit (for a restore, the restoring user)",
  client: "id of the /collab connection it came over (a restore: `restore:<uuid>`)",
  time: "when the appending process sent it to the stream, ISO 8601; the edit chain hashes this exact text",
  replica: "the replica that appended it (`history` for a restore); also sent with presence messages on core NATS",
  viaToken: "only on an edit made through an API token: the token's id (the author is its owner); the edit chain hashes it",
  viaName: "with `Collab-Via-Token`: the token's name, percent-encoded; the edit chain hashes it",
};

/** A subject builder's output with its id shown as a placeholder: the contract's own shape, not a copy. */
function subjectPattern(build: (id: string) => string, name: string): string {
  return build(name).replace(new RegExp(`\\.${name}$`), `.<${name}>`);
}

/** Doc comments of the properties of the object literal assigned to `name` (or passed to its Type.Object call). */
function propertyComments(source: ts.SourceFile, name: string): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === name && node.initializer) {
      let init: ts.Expression = node.initializer;
      if (ts.isAsExpression(init)) init = init.expression;
      if (ts.isCallExpression(init) && init.arguments[0]) init = init.arguments[0];
      if (!ts.isObjectLiteralExpression(init)) throw new Error(`${name} is not an object literal`);
      for (const prop of init.properties) {
        if (!ts.isPropertyAssignment(prop)) continue;
        const key = ts.isStringLiteral(prop.name) || ts.isIdentifier(prop.name) ? prop.name.text : prop.name.getText(source);
        const text = ts
          .getJSDocCommentsAndTags(prop)
          .filter(ts.isJSDoc)
          .map((d) => ts.getTextOfJSDocComment(d.comment) ?? "")
          .join(" ")
          .replace(/\s+/g, " ")
          .trim();
        if (text) out.set(key, text);
      }
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

interface SchemaLike {
  type?: string;
  anyOf?: SchemaLike[];
  const?: unknown;
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  items?: SchemaLike;
  maxItems?: number;
  uniqueItems?: boolean;
  properties?: Record<string, SchemaLike>;
  required?: string[];
}

/** One table cell describing a field's type and constraints, in the words the schema gives. */
function describeType(schema: SchemaLike): string {
  if (schema.anyOf?.every((s) => s.const !== undefined)) return `one of ${schema.anyOf.map((s) => `\`${String(s.const)}\``).join(", ")}`;
  if (schema.type === "string") {
    const parts = [schema.format === "date-time" ? "ISO 8601 time" : "string"];
    if (schema.pattern) parts.push(`pattern \`${schema.pattern}\``);
    if (schema.minLength !== undefined && schema.minLength === schema.maxLength) parts.push(`exactly ${schema.minLength} characters`);
    else if (schema.minLength !== undefined && schema.maxLength !== undefined) parts.push(`${schema.minLength}-${schema.maxLength} characters`);
    else if (schema.maxLength !== undefined) parts.push(`at most ${schema.maxLength} characters`);
    else if (schema.minLength !== undefined) parts.push(`at least ${schema.minLength} characters`);
    return parts.join(", ");
  }
  if (schema.type === "integer" || schema.type === "number") {
    const parts = [schema.type];
    if (schema.minimum !== undefined) parts.push(`≥ ${schema.minimum}`);
    if (schema.maximum !== undefined) parts.push(`≤ ${schema.maximum}`);
    return parts.join(" ");
  }
  if (schema.type === "array" && schema.items) {
    const parts = [`array of ${describeType(schema.items)}`];
    if (schema.maxItems !== undefined) parts.push(`at most ${schema.maxItems}`);
    if (schema.uniqueItems) parts.push("no repeats");
    return parts.join(", ");
  }
  if (schema.type === "object" && schema.properties) {
    const fields = Object.entries(schema.properties).map(([name, field]) => (field.const !== undefined ? `${name}: \`${String(field.const)}\`` : `${name}${schema.required?.includes(name) ? "" : "?"}: ${field.type ?? "any"}`));
    return `{${fields.join(", ")}}`;
  }
  if (schema.anyOf) return `one of ${schema.anyOf.map(describeType).join("; ")}`;
  if (schema.type === "null") return "null";
  if (schema.type === undefined && schema.anyOf === undefined) return "any JSON (the payload below)";
  throw new Error(`no description for schema ${JSON.stringify(schema)}`);
}

function fieldTable(schema: TSchema, comments: Map<string, string> = new Map()): string[] {
  const s = schema as SchemaLike;
  const required = new Set(s.required ?? []);
  const meaning = comments.size > 0;
  const lines = meaning ? ["| field | type | required | meaning |", "| --- | --- | --- | --- |"] : ["| field | type | required |", "| --- | --- | --- |"];
  for (const [name, field] of Object.entries(s.properties ?? {})) {
    const cells = [`\`${name}\``, describeType(field), required.has(name) ? "yes" : "no", ...(meaning ? [comments.get(name) ?? ""] : [])];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines;
}

function familyOf(type: string) {
  const family = families.find((f) => type.startsWith(f.prefix));
  if (!family) throw new Error(`event ${type} has no subject in scripts/contract-docs.ts: add its family`);
  return family;
}

export function renderEventCatalogue(): string {
  const source = ts.createSourceFile(EVENTS_SOURCE, fs.readFileSync(path.join(repoRoot, EVENTS_SOURCE), "utf8"), ts.ScriptTarget.Latest, true);
  const eventComments = propertyComments(source, "EventPayloads");
  const envelopeComments = propertyComments(source, "EventEnvelope");
  const types = Object.keys(EventPayloads) as EventType[];
  const out: string[] = [
    "<!-- generated by `npm run docs:contracts` from packages/contracts/src/events.ts; edit the schemas, not this file -->",
    "",
    "# Event catalogue",
    "",
    "Everything the system stores is a message in one of three JetStream streams. Edits are raw Yjs",
    "updates; every other change (accounts, sessions, documents, members, files) is a typed, versioned",
    "event, defined once in `packages/contracts/src/events.ts` with its payload schema and validated when",
    "it is appended and when it is read. A change to a payload's shape is a new type (`.v2`), never an",
    "edit of an old one: stored events are never rewritten.",
    "",
    "## Streams",
    "",
    "| stream | subjects | holds |",
    "| --- | --- | --- |",
  ];
  const holds: Record<string, string> = {
    EDITS: "one message per accepted Yjs update (or per run of one connection's updates merged while its previous append was in flight)",
    DOCS: "document and board metadata events, and each document's file events",
    AUTH: "user and session events",
    MAIL: "the outbox: email waiting for the sender (a work queue; a mail leaves once sent)",
    EDIT_HEADS: "each document's newest edit (version and time), one message per document, written by history's edit log; derived from EDITS, not a source",
  };
  for (const cfg of streamConfigs(1)) {
    out.push(`| \`${cfg.name}\` | ${(cfg.subjects ?? []).map((s) => `\`${s}\``).join(", ")} | ${holds[cfg.name] ?? ""} |`);
  }
  out.push(
    "",
    "The event streams (EDITS, DOCS, AUTH) keep everything: no limits, no deletes or purges, and a full",
    "store refuses writes rather than dropping old messages (`streamConfigs` in `packages/platform/src/nats.ts`).",
    "The one exception is erasure: once a document is purged, history purges its subject from EDITS (only",
    "history's NATS user may) and leaves a `doc.erased.v1` tombstone recording where its edit chain stood.",
    "MAIL is a work queue, and EDIT_HEADS keeps only the newest message of each document: neither is history.",
    "",
    "## Edits",
    "",
    `An edit is stored on \`${subjectPattern(subjects.edits, "docId")}\`: the payload is the raw binary Yjs update, and`,
    "its `Nats-Msg-Id` is derived from the document id and the bytes, so a resent update is stored once.",
    "The n-th edit on a document's subject is its version n. Headers:",
    "",
    "| header | carries |",
    "| --- | --- |",
  );
  for (const [key, header] of Object.entries(EditHeaders) as [keyof typeof EditHeaders, string][]) {
    out.push(`| \`${header}\` | ${editHeaderMeaning[key]} |`);
  }
  out.push(
    "",
    "The history service hashes each edit into the document's edit chain (see the audit trail in the",
    "README and `packages/contracts/src/edit-chain.ts`).",
    "",
    "## Envelope of every event",
    "",
    `Events are stored as JSON with the type also in the \`${EventHeaders.type}\` header, so consumers can route`,
    "without parsing the body.",
    "",
    ...fieldTable(EventEnvelope, envelopeComments),
    "",
    "## Event types",
    "",
    "| type | version | subject | stream | appended by |",
    "| --- | --- | --- | --- | --- |",
  );
  for (const type of types) {
    const f = familyOf(type);
    const version = /\.v(\d+)$/.exec(type)?.[1];
    if (!version) throw new Error(`event type ${type} does not end in .v<number>`);
    out.push(`| [\`${type}\`](#${type.replace(/\./g, "")}) | ${version} | \`${f.subject}\` | ${streamOfSubject(f.subject)} | ${f.producer} |`);
  }
  out.push("");
  for (const f of families) {
    if (f.note) out.push(`- \`${f.subject}\`: ${f.note}`);
  }
  for (const type of types) {
    const f = familyOf(type);
    out.push("", `### \`${type}\``, "");
    const comment = eventComments.get(type);
    if (comment) out.push(comment, "");
    out.push(`Subject \`${f.subject}\`, appended by ${f.producer}.`, "", ...fieldTable(EventPayloads[type]));
  }
  return `${out.join("\n")}\n`;
}

export const CLOSE_CODES_BEGIN = "<!-- close-codes: generated by `npm run docs:contracts` from packages/contracts/src/errors.ts -->";
export const CLOSE_CODES_END = "<!-- /close-codes -->";

/** What a close code with no error behind it tells the client; the registry's comments say the same. */
const CLOSE_MEANINGS: Partial<Record<number, string>> = {
  [CloseCodes.messageTooBig]: "a message above the size limit (the WebSocket library sends it itself)",
  [CloseCodes.internalError]: "the server failed (for example storing an update); reconnect and send it again",
  [CloseCodes.goingAway]: "the connection sent nothing for SYNC_IDLE_TIMEOUT_MS (a live y-websocket client renews its awareness every 15 s); reconnect when active",
  [CloseCodes.serviceRestart]: "not an error: the replica is going away; connect again and the gateway picks a live one",
  [CloseCodes.tryAgainLater]: "busy or unavailable for now; reconnect after a pause",
};

/** Every /collab close code in the registry, with the errors that map to it. */
export function renderCloseCodes(): string {
  const lines = ["| close code | name | HTTP status of the same error | error codes | meaning |", "| --- | --- | --- | --- | --- |"];
  const entries = Object.entries(CloseCodes).sort(([, a], [, b]) => a - b);
  for (const [name, close] of entries) {
    const errors = Object.entries(ErrorCodes).filter(([, e]) => e.close === close);
    const statuses = [...new Set(errors.map(([, e]) => e.status))].join(", ") || "(none)";
    const codes = errors.map(([c]) => `\`${c}\``).join(", ") || "(none)";
    const meaning = CLOSE_MEANINGS[close] ?? (isRefusalClose(close) ? "a refusal: connecting again as it is gets the same answer" : "");
    lines.push(`| ${close} | \`${name}\` | ${statuses} | ${codes} | ${meaning} |`);
  }
  return lines.join("\n");
}

function withCloseCodes(doc: string): string {
  const begin = doc.indexOf(CLOSE_CODES_BEGIN);
  const end = doc.indexOf(CLOSE_CODES_END);
  if (begin < 0 || end < begin) throw new Error(`${PROTOCOL_DOC} lacks the close-codes markers`);
  return `${doc.slice(0, begin + CLOSE_CODES_BEGIN.length)}\n${renderCloseCodes()}\n${doc.slice(end)}`;
}

/** Every generated file as it should be, by path relative to the repository. */
export function expectedContractDocs(): Map<string, string> {
  const protocol = fs.readFileSync(path.join(repoRoot, PROTOCOL_DOC), "utf8");
  return new Map([
    [EVENTS_DOC, renderEventCatalogue()],
    [PROTOCOL_DOC, withCloseCodes(protocol)],
  ]);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes("--check");
  let stale = false;
  for (const [file, text] of expectedContractDocs()) {
    const full = path.join(repoRoot, file);
    const current = fs.existsSync(full) ? fs.readFileSync(full, "utf8") : "";
    if (current === text) continue;
    if (check) {
      console.error(`${file} is stale: run npm run docs:contracts`);
      stale = true;
    } else {
      fs.mkdirSync(path.dirname(full), { recursive: true });
      fs.writeFileSync(full, text);
      console.log(`${file} updated`);
    }
  }
  if (stale) process.exit(1);
}
