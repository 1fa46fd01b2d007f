/**
 * deploy/k8s rendered by the pinned kustomize and checked offline (scripts/k8s-check.ts): every
 * check passes on what the overlays render, and each one reports a deliberately broken copy.
 */
import { beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import {
  CHECKS,
  TARGETS,
  alertRulesCheck,
  codeFacts,
  configCheck,
  dashboardCheck,
  formatProblem,
  gracePeriodCheck,
  hpaCheck,
  natsCheck,
  natsConfigCheck,
  networkPolicyCheck,
  pdbCheck,
  pinnedImagesCheck,
  podPolicyCheck,
  render,
  schemaCheck,
  serviceCheck,
  unknownFieldsCheck,
  urlCheck,
  type Check,
  type CodeFacts,
  type K8sObject,
  type Rendered,
} from "../../scripts/k8s-check.ts";

let rendered: Rendered[];
let facts: CodeFacts;

beforeAll(async () => {
  rendered = TARGETS.map(render);
  facts = await codeFacts();
});

/** A deep copy of what a target rendered, to break. */
function copy(target: string): K8sObject[] {
  const r = rendered.find((x) => x.target === target);
  if (!r) throw new Error(`${target} not rendered`);
  return structuredClone(r.objects);
}

function get(objects: K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && (x.metadata.name === name || x.metadata.name.startsWith(`${name}-`)));
  if (!o) throw new Error(`no ${kind}/${name}`);
  return o;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- reaching into rendered manifests
function container(objects: K8sObject[], kind: string, name: string, containerName = name): any {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return get(objects, kind, name).spec.template.spec.containers.find((c: any) => c.name === containerName);
}

/** The problems a check reports on objects (by default the real ones), as text. */
async function run(check: Check, target: string, objects?: K8sObject[], all?: Rendered[]): Promise<string[]> {
  const problems = await check.run({ target, objects: objects ?? copy(target), facts, all: all ?? rendered });
  return problems.map(formatProblem);
}

describe("what the overlays render passes every check", () => {
  it("renders every target with kustomize", () => {
    for (const r of rendered) expect(r.objects.length, r.target).toBeGreaterThan(0);
    const dev = rendered.find((r) => r.target === "overlays/dev")!;
    expect(dev.objects.every((o) => o.metadata.namespace === "palimpsest-dev")).toBe(true);
  });

  for (const target of TARGETS) {
    for (const check of CHECKS.filter((c) => c.applies(target))) {
      it(`${target}: ${check.name}`, async () => {
        expect(await run(check, target)).toEqual([]);
      });
    }
  }
});

describe("each check reports a broken copy", () => {
  it("schema: a mistyped and a missing required field", async () => {
    const objects = copy("overlays/dev");
    get(objects, "Deployment", "docs").spec.replicas = "two";
    delete get(objects, "Deployment", "auth").spec.selector;
    const problems = await run(schemaCheck, "overlays/dev", objects);
    expect(problems.join("\n")).toMatch(/Deployment\/docs: .*replicas must be integer/);
    expect(problems.join("\n")).toMatch(/Deployment\/auth: .*must have required property selector/);
  });

  it("schema: unknown fields, which the schema validation lets through", async () => {
    const objects = copy("overlays/prod");
    container(objects, "Deployment", "history").envv = [{ name: "X", value: "1" }];
    get(objects, "Service", "gateway").spec.portss = [];
    expect(await run(schemaCheck, "overlays/prod", objects)).toEqual([]);
    const problems = (await run(unknownFieldsCheck, "overlays/prod", objects)).join("\n");
    expect(problems).toContain('Deployment/history: unknown field "envv" (not in IContainer)');
    expect(problems).toContain('Service/gateway: unknown field "portss" (not in IServiceSpec)');
  });

  it("policy: missing limits and probes, a writable root filesystem, no /tmp, a privileged escalation", async () => {
    const objects = copy("overlays/prod");
    delete container(objects, "Deployment", "gateway").resources.limits;
    delete container(objects, "Deployment", "auth").livenessProbe;
    container(objects, "Deployment", "docs").securityContext.readOnlyRootFilesystem = false;
    container(objects, "Deployment", "sync").securityContext.allowPrivilegeEscalation = true;
    container(objects, "Deployment", "files").volumeMounts = [];
    container(objects, "StatefulSet", "nats").securityContext.capabilities.drop = [];
    get(objects, "Deployment", "history").spec.template.spec.securityContext.runAsNonRoot = false;
    const problems = await run(podPolicyCheck, "overlays/prod", objects);
    expect(problems).toEqual(
      expect.arrayContaining([
        "Deployment/gateway container gateway: no resources.limits.cpu",
        "Deployment/gateway container gateway: no resources.limits.memory",
        "Deployment/auth container auth: no livenessProbe",
        "Deployment/docs container docs: securityContext.readOnlyRootFilesystem is not true",
        "Deployment/sync container sync: securityContext.allowPrivilegeEscalation is not false",
        "Deployment/files container files: no emptyDir mounted at /tmp (the root filesystem is read-only)",
        "StatefulSet/nats container nats: securityContext.capabilities.drop does not include ALL",
        "Deployment/history container history: runAsNonRoot is not true",
      ]),
    );
  });

  it("policy: latest and untagged images", async () => {
    const objects = copy("overlays/dev");
    container(objects, "Deployment", "sync").image = "palimpsest:latest";
    container(objects, "StatefulSet", "nats").image = "nats";
    const problems = await run(pinnedImagesCheck, "overlays/dev", objects);
    expect(problems).toEqual(["Deployment/sync container sync: image palimpsest:latest is not pinned to a version", "StatefulSet/nats container nats: image nats has no tag"]);
  });

  it("policy: a workload without a PodDisruptionBudget, and one that selects nothing", async () => {
    const objects = copy("overlays/prod").filter((o) => !(o.kind === "PodDisruptionBudget" && o.metadata.name === "sync"));
    get(objects, "PodDisruptionBudget", "files").spec.selector.matchLabels = { "app.kubernetes.io/name": "filez" };
    const problems = await run(pdbCheck, "overlays/prod", objects);
    expect(problems).toEqual(
      expect.arrayContaining(["Deployment/sync: no PodDisruptionBudget selects its pods", "Deployment/files: no PodDisruptionBudget selects its pods", "PodDisruptionBudget/files: selects no pods"]),
    );
  });

  it("policy: an HPA aiming at nothing, and sync without one", async () => {
    const objects = copy("overlays/prod");
    get(objects, "HorizontalPodAutoscaler", "gateway").spec.scaleTargetRef.name = "gateway-v2";
    get(objects, "HorizontalPodAutoscaler", "sync").spec.scaleTargetRef.name = "history";
    const problems = await run(hpaCheck, "overlays/prod", objects);
    expect(problems).toEqual(
      expect.arrayContaining([
        "HorizontalPodAutoscaler/gateway: scaleTargetRef Deployment/gateway-v2 is not rendered",
        "Deployment/gateway: no HorizontalPodAutoscaler",
        "Deployment/sync: no HorizontalPodAutoscaler",
      ]),
    );
  });

  it("policy: a Service that selects no pod, one naming a port the pods lack, an Ingress to a missing Service", async () => {
    const objects = copy("overlays/prod");
    get(objects, "Service", "docs").spec.selector = { "app.kubernetes.io/name": "doc" };
    get(objects, "Service", "sync").spec.ports[0].targetPort = "htttp";
    get(objects, "Ingress", "palimpsest").spec.rules[0].http.paths[0].backend.service.name = "web";
    const problems = await run(serviceCheck, "overlays/prod", objects);
    expect(problems).toEqual(
      expect.arrayContaining([
        "Service/docs: its selector matches no pod",
        "Service/sync: port http: Deployment/sync has no container port htttp",
        "Ingress/palimpsest: backend Service web is not rendered",
      ]),
    );
  });

  it("network: no default deny; a service opened to everyone; the gateway cut off from sync; a store open to a service that does not use it", async () => {
    const objects = copy("overlays/dev").filter((o) => !(o.kind === "NetworkPolicy" && ["default-deny", "gateway-upstreams"].includes(o.metadata.name)));
    const problems = await run(networkPolicyCheck, "overlays/dev", objects);
    expect(problems).toContain("no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)");

    const objects2 = copy("overlays/dev");
    objects2.push({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "open-history" }, spec: { podSelector: { matchLabels: { "app.kubernetes.io/name": "history" } }, policyTypes: ["Ingress"], ingress: [{}] } });
    get(objects2, "NetworkPolicy", "gateway-upstreams").spec.egress.splice(0, 1);
    get(objects2, "NetworkPolicy", "postgres").spec.ingress[0].from[0].podSelector.matchExpressions[0].values.push("sync");
    get(objects2, "NetworkPolicy", "postgres-clients").spec.podSelector.matchExpressions[0].values.push("sync");
    const pgClients = get(objects2, "NetworkPolicy", "postgres-clients").spec.podSelector.matchExpressions[0];
    pgClients.values = pgClients.values.filter((v: string) => v !== "rebuild-projections");
    const problems2 = await run(networkPolicyCheck, "overlays/dev", objects2);
    expect(problems2).toEqual(
      expect.arrayContaining([
        "allowed but not needed: outside -> history:8085",
        "needed but refused: gateway -> sync:8083",
        "allowed but not needed: sync -> postgres:5432",
        "needed but refused: rebuild-projections -> postgres:5432",
      ]),
    );
  });

  it("network: managed stores are reached by address, only by the services that use them", async () => {
    const objects = copy("overlays/prod").filter((o) => !(o.kind === "NetworkPolicy" && o.metadata.name === "managed-postgres-clients"));
    get(objects, "NetworkPolicy", "managed-s3-clients").spec.podSelector.matchExpressions[0].values.push("gateway");
    const problems = await run(networkPolicyCheck, "overlays/prod", objects);
    expect(problems).toEqual(
      expect.arrayContaining([
        "needed but refused: docs -> outside:5432",
        "needed but refused: rebuild-projections -> outside:5432",
        "allowed but not needed: gateway -> outside:443",
      ]),
    );
  });

  it("network: trace export turned on without a way out to the collector", async () => {
    const objects = copy("overlays/prod");
    get(objects, "ConfigMap", "palimpsest-config").data.OTEL_EXPORTER_OTLP_ENDPOINT = "http://otel-collector.monitoring:4318";
    const problems = await run(networkPolicyCheck, "overlays/prod", objects);
    for (const s of ["gateway", "auth", "docs", "sync", "files", "history"]) expect(problems).toContain(`needed but refused: ${s} -> outside:4318`);
  });

  it("the connections each command needs are read from its code", () => {
    const sorted = (cmd: string) => [...(facts.dials[cmd] ?? [])].sort();
    const otel = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"];
    const stores = (cmd: string) => sorted(cmd).filter((v) => !otel.includes(v));
    expect(stores("gateway")).toEqual(["FILES_URLS", "NATS_URL", "REDIS_URL", "SYNC_URLS"]);
    expect(stores("auth")).toEqual(["DATABASE_URL", "NATS_URL", "REDIS_URL", "SMTP_URL"]);
    expect(stores("sync")).toEqual(["NATS_URL", "REDIS_URL"]);
    expect(stores("files")).toEqual(["DATABASE_URL", "NATS_URL", "REDIS_URL", "S3_ENDPOINT"]);
    expect(stores("rebuild-projections")).toEqual(["DATABASE_URL", "NATS_URL"]);
    expect(stores("rotate-signing-key")).toEqual(["DATABASE_URL"]);
  });

  it("code: a grace period shorter than the service's shutdown", async () => {
    const objects = copy("overlays/prod");
    get(objects, "Deployment", "history").spec.template.spec.terminationGracePeriodSeconds = 15;
    const problems = await run(gracePeriodCheck, "overlays/prod", objects);
    expect(problems).toEqual([`Deployment/history: terminationGracePeriodSeconds 15 is not longer than preStop 5 s + shutdown ${facts.graceMs.history / 1000} s`]);
  });

  it("code: a variable no one reads, a loopback default left, PORT off the container port, a value the service refuses, a probe path it lacks", async () => {
    const objects = copy("overlays/dev");
    container(objects, "Deployment", "docs").env.push({ name: "DOCS_CACHE_SIZE", value: "100" });
    const common = get(objects, "ConfigMap", "palimpsest-config");
    delete common.data.NATS_URL;
    container(objects, "Deployment", "files").env.find((e: { name: string }) => e.name === "PORT").value = "9999";
    get(objects, "ConfigMap", "palimpsest-gateway").data.TRUST_PROXY = "maybe";
    container(objects, "Deployment", "auth").readinessProbe.httpGet.path = "/ready";
    container(objects, "Deployment", "sync").env.push({ name: "SYNC_IDLE_UNLOAD_MS", value: "http://127.0.0.1:1" });
    const problems = (await run(configCheck, "overlays/dev", objects)).join("\n");
    expect(problems).toContain("Deployment/docs (docs): sets DOCS_CACHE_SIZE (env), which docs does not read");
    expect(problems).toContain("Deployment/gateway (gateway): NATS_URL is not set, and its default nats://127.0.0.1:4222 points at this pod itself");
    expect(problems).toMatch(/Job\/setup-streams-[^ ]+ \(setup-streams\): NATS_URL is not set/);
    expect(problems).toContain("Deployment/files (files): PORT=9999 but the container port is 8084");
    expect(problems).toContain("TRUST_PROXY must be false, a number of proxies, or their addresses or CIDRs");
    expect(problems).toContain("Deployment/auth (auth): readinessProbe asks /ready, which the services do not serve");
    expect(problems).toContain("Deployment/sync (sync): SYNC_IDLE_UNLOAD_MS=http://127.0.0.1:1 points at the pod itself");
  });

  it("code: more stream replicas than NATS nodes, a service on another service's NATS user, a command the image lacks, a NATS password where none is used", async () => {
    const objects = copy("overlays/prod");
    get(objects, "CronJob", "rotate-signing-key").spec.jobTemplate.spec.template.spec.containers[0].env.push({
      name: "NATS_PASSWORD",
      valueFrom: { secretKeyRef: { name: "palimpsest-nats-credentials", key: "admin" } },
    });
    get(objects, "ConfigMap", "palimpsest-config").data.STREAM_REPLICAS = "5";
    container(objects, "Deployment", "docs").env.find((e: { name: string }) => e.name === "NATS_USER").value = "admin";
    container(objects, "Deployment", "history").args = ["histroy"];
    const problems = (await run(configCheck, "overlays/prod", objects)).join("\n");
    expect(problems).toContain("Deployment/gateway (gateway): STREAM_REPLICAS=5 but NATS has 3 nodes");
    expect(problems).toContain("Deployment/docs (docs): NATS_USER is admin, not docs");
    expect(problems).toContain('Deployment/history (histroy): runs "histroy", which is not a command of the image');
    expect(problems).toContain("no Deployment runs history");
    expect(problems).toContain("CronJob/rotate-signing-key (rotate-signing-key): rotate-signing-key never connects to NATS but gets a NATS password");
  });

  it("code: URLs naming a Service that is not rendered, or a port it does not have; NATS routes off the StatefulSet", async () => {
    const objects = copy("overlays/dev");
    const gw = get(objects, "ConfigMap", "palimpsest-gateway");
    gw.data.SYNC_URLS = "ws://sync:9999";
    gw.data.FILES_URLS = "http://filez:8084";
    const nats = get(objects, "ConfigMap", "nats-config");
    nats.data["nats.conf"] = nats.data["nats.conf"].replace("nats://nats-2.nats-headless:6222", "nats://nats-3.nats-headless:6222");
    const problems = await run(urlCheck, "overlays/dev", objects);
    expect(problems).toEqual(
      expect.arrayContaining([
        "Deployment/gateway: SYNC_URLS=ws://sync:9999: Service sync has no port 9999",
        "Deployment/gateway: FILES_URLS=http://filez:8084: no Service filez is rendered",
        "ConfigMap/nats-config: route nats://nats-3.nats-headless:6222 names no pod of StatefulSet/nats",
      ]),
    );
  });

  it("nats: wrong probes, no lame duck, two nodes, a store larger than its volume, a user's password missing", async () => {
    const objects = copy("overlays/prod");
    const sts = get(objects, "StatefulSet", "nats");
    sts.spec.replicas = 2;
    const c = container(objects, "StatefulSet", "nats");
    c.livenessProbe.httpGet.path = "/healthz";
    delete c.lifecycle;
    c.env = c.env.filter((e: { name: string }) => e.name !== "NATS_PASSWORD_SYNC");
    sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage = "5Gi";
    const problems = (await run(natsCheck, "overlays/prod", objects)).join("\n");
    expect(problems).toContain("2 nodes: JetStream needs an odd number");
    expect(problems).toContain("livenessProbe is not /healthz?js-enabled-only=true");
    expect(problems).toContain("no lame-duck preStop");
    expect(problems).toContain("max_file_store (9000000000 bytes) is not below the volume (5368709120 bytes)");
    expect(problems).toContain("NATS_PASSWORD_SYNC is not key sync of Secret palimpsest-nats-credentials");
    expect(problems).toContain("the configuration uses $NATS_PASSWORD_SYNC, which the container does not define");
  });

  it("nats: a configuration nats-server refuses", async () => {
    const objects = copy("overlays/dev");
    const cm = get(objects, "ConfigMap", "nats-config");
    cm.data["nats.conf"] = cm.data["nats.conf"].replace("max_memory_store: 256MB", "max_memory_store: 256MB\n  cluster_speed: {");
    const problems = await run(natsConfigCheck, "overlays/dev", objects);
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) expect(p).toMatch(/nats-server [\d.]+ -t: .*Parse error on line \d+/);
    const broken = copy("overlays/dev");
    const auth = get(broken, "ConfigMap", "nats-config");
    auth.data["auth.conf"] = auth.data["auth.conf"].replace(/authorization\s*\{/, "authorization {\n  users = [ {user: x, password: $NOT_DEFINED} ]");
    const undefinedVar = await run(natsConfigCheck, "overlays/dev", broken);
    expect(undefinedVar.length).toBeGreaterThan(0);
    for (const p of undefinedVar) expect(p).toMatch(/nats-server [\d.]+ -t: .*(NOT_DEFINED|variable reference)/);
    // The pinned server's minor version must be among those that checked it.
    const future = copy("overlays/dev");
    container(future, "StatefulSet", "nats").image = "nats:9.9.1-alpine";
    expect(await run(natsConfigCheck, "overlays/dev", future)).toEqual([expect.stringMatching(/StatefulSet\/nats: no nats-server 9\.9\.x here to check the configuration with/)]);
  });

  it("monitoring: a misspelt metric, unbalanced parentheses, an alert without severity, exporter metrics without the exporter", async () => {
    const objects = copy("monitoring");
    const cm = get(objects, "ConfigMap", "palimpsest-prometheus-rules");
    const doc = YAML.parse(cm.data["palimpsest.rules.yaml"]) as { groups: { rules: Record<string, unknown>[] }[] };
    const rules = doc.groups[0]!.rules;
    rules[0]!["expr"] = "histogram_quantile(0.99, sum by (le) (rate(sync_apend_seconds_bucket[5m]))) > 0.05";
    rules[1]!["expr"] = "histogram_quantile(0.99, sum by (le) (rate(sync_fanout_seconds_bucket[5m])) > 0.05";
    delete (rules[2]!["labels"] as Record<string, string>)["severity"];
    cm.data["palimpsest.rules.yaml"] = YAML.stringify(doc);
    const problems = (await run(alertRulesCheck, "monitoring", objects)).join("\n");
    expect(problems).toContain("palimpsest-edits/EditAppendSlow: metric sync_apend_seconds_bucket is exported by nothing that is deployed");
    expect(problems).toMatch(/palimpsest-edits\/EditFanoutSlow: PromQL: (syntax error|unbalanced parentheses)/);
    expect(problems).toContain("palimpsest-edits/EditsRefusedOften: severity label is not critical, warning or info");

    // Without the exporter beside the NATS nodes, its metrics are exported by nothing.
    const noExporter = rendered.map((r) => {
      if (!r.target.startsWith("overlays/")) return r;
      const objs = structuredClone(r.objects);
      const sts = get(objs, "StatefulSet", "nats");
      sts.spec.template.spec.containers = sts.spec.template.spec.containers.filter((c: { name: string }) => c.name !== "exporter");
      return { ...r, objects: objs };
    });
    const withoutExporter = (await run(alertRulesCheck, "monitoring", copy("monitoring"), noExporter)).join("\n");
    expect(withoutExporter).toContain("palimpsest-jetstream/NatsNodeUnhealthy: metric gnatsd_healthz_status is exported by nothing that is deployed");
    expect(withoutExporter).toContain("palimpsest-projections/ConsumerBacklog: metric jetstream_consumer_num_pending is exported by nothing that is deployed");
  });

  it("monitoring: a label a metric does not have, a grouping label no metric has, an annotation naming a label aggregated away", async () => {
    const objects = copy("monitoring");
    const cm = get(objects, "ConfigMap", "palimpsest-prometheus-rules");
    const doc = YAML.parse(cm.data["palimpsest.rules.yaml"]) as { groups: { name: string; rules: Record<string, unknown>[] }[] };
    const byName = (alert: string) => doc.groups.flatMap((g) => g.rules).find((r) => r["alert"] === alert)!;
    byName("HttpServerErrors")["expr"] = String(byName("HttpServerErrors")["expr"]).replace("status=~", "code=~");
    byName("ProjectionBehind")["expr"] = "max by (projecton) (projection_lag_seconds) > 30";
    byName("ConsumerBacklog")["expr"] = "max by (stream_name) (jetstream_consumer_num_pending) > 10000";
    cm.data["palimpsest.rules.yaml"] = YAML.stringify(doc);
    const problems = (await run(alertRulesCheck, "monitoring", objects)).join("\n");
    expect(problems).toContain("palimpsest-errors/HttpServerErrors: metric http_request_duration_seconds_count has no label code");
    expect(problems).toContain("palimpsest-projections/ProjectionBehind: grouping label projecton is on none of the metrics selected");
    expect(problems).toContain("palimpsest-projections/ConsumerBacklog: annotation names $labels.consumer_name, which the expression aggregates away");
  });

  it("the label names come from the code's registrations and prom-client's default metrics", () => {
    expect([...(facts.metricLabels.get("rpc_handler_duration_seconds") ?? [])].sort()).toEqual(["outcome", "subject"]);
    expect([...(facts.metricLabels.get("sync_updates_rejected_total") ?? [])]).toEqual(["reason"]);
    expect(facts.metricLabels.get("nodejs_gc_duration_seconds")?.has("kind")).toBe(true);
  });

  it("monitoring: a dashboard query on a metric nobody exports, and one that does not parse", async () => {
    const objects = copy("monitoring");
    const cm = get(objects, "ConfigMap", "palimpsest-grafana-dashboard");
    const dash = JSON.parse(cm.data["palimpsest.json"]) as { panels: { type: string; title: string; targets?: { expr: string }[] }[] };
    const panels = dash.panels.filter((p) => p.type !== "row");
    panels[0]!.targets![0]!.expr = "rate(sync_append_latency_bucket[$__rate_interval])";
    panels[1]!.targets![0]!.expr = "sum by (le (rate(sync_fanout_seconds_bucket[5m]))";
    cm.data["palimpsest.json"] = JSON.stringify(dash);
    const problems = (await run(dashboardCheck, "monitoring", objects)).join("\n");
    expect(problems).toContain(`"${panels[0]!.title}": metric sync_append_latency_bucket is exported by nothing that is deployed`);
    expect(problems).toMatch(new RegExp(`"${panels[1]!.title.replace(/[()]/g, ".")}": PromQL: syntax error`));
    cm.data["palimpsest.json"] = "{ not json";
    expect((await run(dashboardCheck, "monitoring", objects)).join("\n")).toContain("not JSON");
  });

  it("the metric names come from the code: each one the rules and dashboard use is registered there or by prom-client", () => {
    for (const m of ["sync_append_seconds", "sync_fanout_seconds", "projection_lag_seconds", "http_request_duration_seconds", "gateway_collab_slow_disconnects_total"]) {
      expect(facts.metrics.has(m), m).toBe(true);
    }
    expect(facts.metrics.get("process_cpu_seconds_total")).toBe("counter");
    expect(facts.metrics.has("nodejs_eventloop_lag_p99_seconds")).toBe(true);
  });
});
