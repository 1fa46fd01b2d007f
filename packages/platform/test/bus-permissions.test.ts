import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { rpc, subjects } from "@palimpsest/contracts";
import { BusUsers, busPermissions, k8sAuthConf, k8sAuthConfPath, renderNatsAuthorization, subjectsOverlap, type BusUser } from "../src/bus-permissions.ts";
import { repoRoot } from "@palimpsest/devkit";

/** NATS subject matching: `*` is one token, `>` one or more at the end. */
function matches(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return s.length > i;
    if (i >= s.length || (p[i] !== "*" && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}
const perms = busPermissions();
const services = BusUsers.filter((u): u is Exclude<BusUser, "admin"> => u !== "admin");
const whoMay = (kind: "publish" | "subscribe", subject: string) => services.filter((u) => perms[u][kind].some((p) => matches(p, subject)));

describe("bus permissions", () => {
  it("given the permissions, only sync and history may append an edit", () => {
    expect(whoMay("publish", subjects.edits("doc-1"))).toEqual(["sync", "history"]);
  });

  it("given the permissions, each service's requests are answered by that service alone", () => {
    expect(whoMay("subscribe", rpc.auth.jwks)).toEqual(["auth"]);
    expect(whoMay("subscribe", rpc.docs.access)).toEqual(["docs"]);
    expect(whoMay("subscribe", rpc.history.restore)).toEqual(["history"]);
    expect(whoMay("subscribe", rpc.files.complete)).toEqual(["files"]);
  });

  it("given the permissions, a service's events are written by that service alone", () => {
    expect(whoMay("publish", subjects.user("u1"))).toEqual(["auth"]);
    expect(whoMay("publish", subjects.docEvents("d1"))).toEqual(["docs"]);
    expect(whoMay("publish", subjects.fileEvents("d1"))).toEqual(["files"]);
  });

  it("given the permissions, no service can change, purge or delete a stream, except history erasing purged documents' edits", () => {
    for (const api of ["UPDATE", "PURGE", "DELETE"]) {
      for (const stream of ["EDITS", "DOCS", "AUTH"]) {
        expect(whoMay("publish", `$JS.API.STREAM.${api}.${stream}`)).toEqual(api === "PURGE" && stream === "EDITS" ? ["history"] : []);
      }
    }
    expect(whoMay("publish", subjects.erasure("d1"))).toEqual(["history"]);
  });

  it("given the permissions, a service reads only its own inboxes", () => {
    for (const u of services) expect(whoMay("subscribe", `_INBOX_${u}.abc`)).toEqual([u]);
    expect(whoMay("subscribe", "_INBOX.abc")).toEqual([]);
  });

  it("given the permissions, a service may answer into the inboxes of those who may call it, and no others", () => {
    // docs calls auth (lookup, jwks) and history (head); sync calls auth, docs and history; nobody calls sync but the gateway (readiness).
    expect(whoMay("publish", "_INBOX_docs.abc.1")).toEqual(["auth", "history"]);
    expect(whoMay("publish", "_INBOX_sync.abc.1")).toEqual(["auth", "docs", "history"]);
    expect(whoMay("publish", "_INBOX_gateway.abc.1")).toEqual(["auth", "docs", "sync", "files", "history"]);
    expect(whoMay("publish", "_INBOX.abc")).toEqual([]);
  });

  it("given the rendered server config, no user has allow_responses (the server would track every delivery's reply subject)", () => {
    expect(renderNatsAuthorization(() => '"x"')).not.toMatch(/allow_responses/);
  });

  it("given two subject patterns, they overlap when some subject matches both", () => {
    expect(subjectsOverlap("rpc.auth.>", "rpc.auth.jwks")).toBe(true);
    expect(subjectsOverlap("rpc.*.ready", "rpc.sync.>")).toBe(true);
    expect(subjectsOverlap(">", "a")).toBe(true);
    expect(subjectsOverlap("rpc.auth", "rpc.auth.>")).toBe(false);
    expect(subjectsOverlap("rpc.docs.access", "rpc.auth.>")).toBe(false);
    expect(subjectsOverlap("a.*", "a.b.c")).toBe(false);
  });

  it("given the permissions, the gateway cannot make internal calls", () => {
    for (const s of [rpc.auth.lookup, rpc.history.head, rpc.history.snapshot]) expect(whoMay("publish", s)).not.toContain("gateway");
  });

  it("the Kubernetes auth.conf is the one rendered from these permissions (npm run deploy:nats-auth)", () => {
    expect(fs.readFileSync(path.join(repoRoot, k8sAuthConfPath), "utf8")).toBe(k8sAuthConf());
  });
});
