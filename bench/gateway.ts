/**
 * The gateway's cost per REST request and the login rate.
 *
 * 1. Added latency: the same query (GET /api/docs/:id) through the gateway over HTTP (token
 *    verification, rate limit and revocation check in Redis, NATS request to the docs service)
 *    against the docs service called directly over NATS request/reply, one request at a time.
 * 2. Throughput of that route with 16 requests in flight.
 * 3. Logins per second (argon2id verification dominates) with 8 in flight.
 * Every loop is bounded by count and by time.
 *
 * Run: npm run bench:gateway
 * With OTEL_EXPORTER_OTLP_ENDPOINT set (the services inherit it) the same figures are measured
 * with tracing on, every request sampled: the cost of tracing is the difference.
 */
import { connect } from "@nats-io/transport-node";
import { rpc } from "@palimpsest/contracts";
import { TestApi, natsOptionsFromEnv } from "@palimpsest/devkit";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import { fmt, machine, startBenchSystem, summary } from "./bench-system.ts";

const N = Number(process.env["BENCH_REQUESTS"] ?? 3000);
const LOGIN_SECONDS = Number(process.env["BENCH_LOGIN_SECONDS"] ?? 10);
const WARMUP = 300;

/**
 * CPU time a process has used (user + system), from /proc: unlike latency, it does not move with
 * whatever else the machine is running, so it shows a per-request cost on a busy machine too.
 */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after "pid (comm) ", in clock ticks (100 a second on Linux).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

// A hundred failed sign-ins to one account are timed (a known account must fail as fast as an
// unknown one); at the shipped defaults the fifth locks it for this address (429), which is
// the lockout working, not what is measured here.
const bench = await startBenchSystem({ env: { LOGIN_FAILURES_PER_ADDRESS: "1000", LOGIN_FAILURES_PER_ACCOUNT: "1000" } });
try {
  const base = bench.system.gatewayUrl();
  const anon = new TestApi(base);
  const { api, auth } = await anon.newUser("Bench");
  const doc = await api.createDoc("bench");
  const nc = await connect(natsOptionsFromEnv(bench.stores.env));

  const direct = async () => {
    const m = await nc.request(rpc.docs.get, JSON.stringify({ requestId: randomUUID(), token: auth.accessToken, input: { id: doc.id } }), { timeout: 5_000 });
    // Read the reply as the gateway does: the outcome in a header, the body as JSON.
    if (m.headers?.get("Rpc-Outcome") !== "ok") throw new Error("direct call failed");
    m.json<unknown>();
  };
  const viaGateway = async () => {
    const res = await fetch(`${base}/api/docs/${doc.id}`, { headers: { authorization: `Bearer ${auth.accessToken}` } });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`gateway call failed: ${res.status}`);
  };

  async function sequential(fn: () => Promise<void>): Promise<number[]> {
    for (let i = 0; i < WARMUP; i++) await fn();
    const out: number[] = [];
    const deadline = Date.now() + 60_000;
    for (let i = 0; i < N && Date.now() < deadline; i++) {
      const t = performance.now();
      await fn();
      out.push(performance.now() - t);
    }
    return out;
  }

  async function concurrent(fn: () => Promise<void>, inFlight: number, seconds: number): Promise<{ rate: number; lat: number[] }> {
    const lat: number[] = [];
    const end = performance.now() + seconds * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (performance.now() < end) {
          const t = performance.now();
          await fn();
          lat.push(performance.now() - t);
        }
      }),
    );
    return { rate: lat.length / ((performance.now() - started) / 1000), lat };
  }

  // Interleave the two so both see the same machine conditions.
  const d1 = await sequential(direct);
  const g1 = await sequential(viaGateway);
  const d2 = await sequential(direct);
  const g2 = await sequential(viaGateway);
  const d = summary([...d1, ...d2]);
  const g = summary([...g1, ...g2]);
  const pids = { gateway: bench.system.byName("gateway")[0]?.process.pid, docs: bench.system.byName("docs")[0]?.process.pid };
  const cpuBefore = { gateway: cpuMs(pids.gateway), docs: cpuMs(pids.docs) };
  const c = await concurrent(viaGateway, 16, 10);
  const cpuPerRequest = {
    gateway: (cpuMs(pids.gateway) - cpuBefore.gateway) / c.lat.length,
    docs: (cpuMs(pids.docs) - cpuBefore.docs) / c.lat.length,
  };
  const cs = summary(c.lat);

  const email = auth.user.email;
  const login = async () => {
    const res = await fetch(`${base}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password: "correct horse battery staple" }),
    });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`login failed: ${res.status}`);
  };
  const failedLogin = async (who: string) => {
    const res = await fetch(`${base}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: who, password: "not the password at all" }),
    });
    await res.arrayBuffer();
    if (res.status !== 401) throw new Error(`expected 401, got ${res.status}`);
  };
  const l = await concurrent(login, 8, LOGIN_SECONDS);
  const ls = summary(l.lat);
  const unknownSeq: number[] = [];
  const knownSeq: number[] = [];
  for (let i = 0; i < 100; i++) {
    let t = performance.now();
    await failedLogin(email);
    knownSeq.push(performance.now() - t);
    t = performance.now();
    await failedLogin(`nobody-${randomUUID()}@example.test`);
    unknownSeq.push(performance.now() - t);
  }
  await nc.close();

  console.log(`machine: ${machine()}`);
  console.log(`tracing: ${process.env["OTEL_EXPORTER_OTLP_ENDPOINT"] ? `on, spans exported to ${process.env["OTEL_EXPORTER_OTLP_ENDPOINT"]}` : "off"}`);
  console.log(`\nGET /api/docs/:id, one at a time (${d.n} requests each)`);
  console.log(`  docs service direct (NATS request): p50 ${fmt(d.p50)}  p90 ${fmt(d.p90)}  p99 ${fmt(d.p99)}`);
  console.log(`  through the gateway (HTTP):         p50 ${fmt(g.p50)}  p90 ${fmt(g.p90)}  p99 ${fmt(g.p99)}`);
  console.log(`  added by the gateway:               p50 ${fmt(g.p50 - d.p50)}  p99 ${fmt(g.p99 - d.p99)}`);
  console.log(`\nGET /api/docs/:id through the gateway, 16 in flight, 10 s: ${c.rate.toFixed(0)} req/s, p50 ${fmt(cs.p50)} p99 ${fmt(cs.p99)}`);
  console.log(`  CPU per request (${c.lat.length} requests): gateway ${fmt(cpuPerRequest.gateway)}, docs service ${fmt(cpuPerRequest.docs)}`);
  console.log(`\nPOST /api/auth/login, 8 in flight, ${LOGIN_SECONDS} s: ${l.rate.toFixed(1)} logins/s, p50 ${fmt(ls.p50)} p99 ${fmt(ls.p99)}`);
  const k = summary(knownSeq);
  const u = summary(unknownSeq);
  console.log(`failed login, one at a time (100 each): existing email p50 ${fmt(k.p50)} p90 ${fmt(k.p90)}, unknown email p50 ${fmt(u.p50)} p90 ${fmt(u.p90)}`);
} finally {
  await bench.stop();
}
