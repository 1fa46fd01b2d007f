/**
 * The Dockerfile cannot be built here (no container engine), so what it relies on is checked
 * against the repository: it installs every workspace, builds the tree with the script the
 * image-tree test runs, starts it the way that test does, and runs as the user the manifests expect.
 */
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "@palimpsest/devkit";
import { NODE_FLAGS } from "../../scripts/build-image-tree.ts";
import { OVERLAYS, render, type K8sObject } from "../../scripts/k8s-check.ts";

interface Instruction {
  op: string;
  args: string;
  stage: number;
}

/** The Dockerfile's instructions (continuation lines joined, comments dropped), with the stage each belongs to. */
function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  for (const line of text.replace(/\\\n\s*/g, " ").split("\n")) {
    const t = line.trim();
    if (t === "" || t.startsWith("#")) continue;
    const [op, ...rest] = t.split(/\s+/);
    if ((op as string).toUpperCase() === "FROM") stage++;
    out.push({ op: (op as string).toUpperCase(), args: rest.join(" "), stage });
  }
  return out;
}

const dockerfile = instructions(fs.readFileSync(path.join(repoRoot, "Dockerfile"), "utf8"));
const dockerignore = fs
  .readFileSync(path.join(repoRoot, ".dockerignore"), "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l !== "" && !l.startsWith("#"));
const finalStage = Math.max(...dockerfile.map((i) => i.stage));
let rendered: K8sObject[] = [];

beforeAll(() => {
  rendered = OVERLAYS.flatMap((o) => render(o).objects);
});

describe("Dockerfile", () => {
  it("copies every workspace's package.json before npm ci, so the install sees all of them", () => {
    const workspaces = (JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { workspaces: string[] }).workspaces;
    const ci = dockerfile.findIndex((i) => i.op === "RUN" && /\bnpm ci\b/.test(i.args));
    expect(ci).toBeGreaterThan(0);
    const copied = dockerfile.slice(0, ci).filter((i) => i.op === "COPY").map((i) => i.args);
    expect(copied).toContain("package.json package-lock.json ./");
    for (const ws of workspaces) expect(copied, ws).toContain(`${ws}/package.json ${ws}/`);
  });

  it("builds the tree with scripts/build-image-tree.ts and ships only that tree", () => {
    expect(dockerfile.some((i) => i.stage === 0 && i.op === "RUN" && /tsx scripts\/build-image-tree\.ts \/out$/.test(i.args))).toBe(true);
    const final = dockerfile.filter((i) => i.stage === finalStage);
    expect(final.filter((i) => i.op === "COPY").map((i) => i.args)).toEqual(["--from=build /out /app"]);
    expect(final.some((i) => i.op === "RUN")).toBe(false);
  });

  it("starts the entry point with the flags the image-tree test uses, from /app, serving the built web app", () => {
    const final = dockerfile.filter((i) => i.stage === finalStage);
    const entrypoint = final.find((i) => i.op === "ENTRYPOINT");
    expect(JSON.parse(entrypoint?.args ?? "null")).toEqual(["node", ...NODE_FLAGS, "/app/entrypoint.js"]);
    expect(final.find((i) => i.op === "WORKDIR")?.args).toBe("/app");
    expect(final.find((i) => i.op === "ENV")?.args).toContain("WEB_DIST=/app/web/dist");
  });

  it("pins its base image and runs as the numeric user every palimpsest pod in the overlays runs as", () => {
    const arg = dockerfile.find((i) => i.op === "ARG" && i.args.startsWith("NODE_IMAGE="));
    expect(arg?.args).toMatch(/^NODE_IMAGE=node:\d+\.\d+\.\d+-[a-z]+-slim$/);
    for (const from of dockerfile.filter((i) => i.op === "FROM")) expect(from.args).toMatch(/^\$\{NODE_IMAGE\}/);
    const user = dockerfile.filter((i) => i.stage === finalStage && i.op === "USER").at(-1)?.args;
    expect(user).toMatch(/^\d+:\d+$/);
    const [uid] = (user as string).split(":");
    const pods = rendered.filter((o) => ["Deployment", "Job", "CronJob"].includes(o.kind));
    let checked = 0;
    for (const o of pods) {
      const spec = o.kind === "CronJob" ? o.spec.jobTemplate.spec.template.spec : o.spec.template.spec;
      for (const c of spec.containers as { image: string; securityContext?: { runAsUser?: number } }[]) {
        if (!/palimpsest(:|@)/.test(c.image)) continue;
        expect(c.securityContext?.runAsUser ?? spec.securityContext?.runAsUser, `${o.kind}/${o.metadata.name}`).toBe(Number(uid));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(6);
  });

  it(".dockerignore keeps installed and built folders out of the context, and nothing the build needs", () => {
    for (const p of ["**/node_modules", "**/dist", ".data", ".tools"]) expect(dockerignore).toContain(p);
    const needed = ["package.json", "package-lock.json", "scripts/build-image-tree.ts", "scripts/web-build.ts", "packages/platform/src/index.ts", "services/sync/src/main.ts", "web/index.html", "web/src"];
    for (const f of needed) {
      const excluded = dockerignore.some((pattern) => {
        const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*\*\//g, "(.*/)?").replace(/\*/g, "[^/]*")}(/.*)?$`);
        return re.test(f);
      });
      expect(excluded, f).toBe(false);
    }
  });
});
