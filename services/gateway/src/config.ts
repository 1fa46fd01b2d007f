import { isIP } from "node:net";
import { commonConfig, env, loadConfig, type ConfigOf, type Field } from "@palimpsest/platform";

/** The keyword (and the default) for "the replicas that announce themselves over NATS". */
export const DISCOVER = "discover";

/**
 * SYNC_URLS / FILES_URLS: unset or `discover`, the gateway uses the replicas that announce
 * themselves over NATS (local runs, any deployment without a load-balancing Service); a
 * comma-separated list of URLs is used as it is (a Kubernetes Service, a load balancer).
 */
function upstreamList(name: string, protocols: readonly string[], doc: string): Field<readonly string[] | typeof DISCOVER> {
  return {
    env: name,
    doc,
    defaultText: DISCOVER,
    parse(raw) {
      const value = raw?.trim() ?? "";
      if (value === "" || value === DISCOVER) return DISCOVER;
      const urls = value.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
      for (const u of urls) {
        let protocol: string;
        try {
          protocol = new URL(u).protocol;
        } catch {
          throw new Error(`${name} is not a list of URLs: ${u}`);
        }
        if (!protocols.includes(protocol)) throw new Error(`${name}: ${u} must start with ${protocols.map((p) => `${p}//`).join(" or ")}`);
      }
      return urls;
    },
  };
}

/** Which proxies in front of the gateway may say who the client is (see `trustedProxies`). */
export type TrustProxy = false | number | readonly string[];

/**
 * TRUST_PROXY: `false` (the connection's address is the client's), a number of proxies in front
 * (the client is that many addresses from the right of X-Forwarded-For: everything left of it was
 * written by the client and proves nothing), or the proxies' addresses or CIDRs. `true` means one
 * proxy: trusting the whole header would let any client pick its own address.
 */
const trustedProxies: Field<TrustProxy> = {
  env: "TRUST_PROXY",
  doc: "proxies in front of the gateway whose X-Forwarded-For is believed: `false`, their number (an ingress: 1; `true` means 1), or their addresses or CIDRs, comma-separated",
  defaultText: "false",
  parse(raw) {
    const value = raw?.trim().toLowerCase() ?? "";
    if (["", "false", "no", "off", "0"].includes(value)) return false;
    if (["true", "yes", "on"].includes(value)) return 1;
    if (/^\d+$/.test(value)) {
      const hops = Number(value);
      if (hops > 10) throw new Error("TRUST_PROXY: at most 10 proxies in front");
      return hops;
    }
    const entries = value.split(",").map((e) => e.trim()).filter((e) => e !== "");
    for (const e of entries) {
      const [addr, bits, extra] = e.split("/");
      const family = isIP(addr ?? "");
      const maxBits = family === 6 ? 128 : 32;
      if (family === 0 || extra !== undefined || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= maxBits))) {
        throw new Error(`TRUST_PROXY must be false, a number of proxies, or their addresses or CIDRs; ${JSON.stringify(e)} is none of these`);
      }
    }
    return entries;
  },
};

/**
 * IMAGE_HOSTS: the remote origins board image cards may load pictures from. Each is an https
 * origin (`https://images.example.com`, a port allowed) or one wildcard level
 * (`https://*.example.com`); anything else would widen the policy in ways an owner did not mean.
 */
export function imageHostList(name: string, doc: string): Field<readonly string[]> {
  return {
    env: name,
    doc,
    defaultText: "(none)",
    parse(raw) {
      const items = (raw ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0);
      return items.map((item) => {
        const match = /^https:\/\/(\*\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)*)(:\d{1,5})?\/?$/i.exec(item);
        if (!match) throw new Error(`${name}: ${item} is not an https origin such as https://images.example.com or https://*.example.com`);
        return `https://${match[1] ?? ""}${match[2]!.toLowerCase()}${match[3] ?? ""}`;
      });
    },
  };
}

export const gatewayConfigSpec = {
  ...commonConfig,
  port: env.int("PORT", 8080, "public port: web app, /api, /collab", { min: 0, max: 65535 }),
  /** Metrics tell load, errors and internals to whoever reads them: never on the public port. */
  metricsPort: env.int("METRICS_PORT", 9464, "port of the gateway's Prometheus /metrics, apart from the public port (0: any free port)", { min: 0, max: 65535 }),
  syncUrls: upstreamList("SYNC_URLS", ["ws:"], "sync replicas the gateway relays /collab to: `discover` (those announcing themselves over NATS) or a comma-separated list (a Kubernetes Service)"),
  filesUrls: upstreamList("FILES_URLS", ["http:", "https:"], "files replicas the gateway streams uploads and downloads to: `discover` or a comma-separated list, as for SYNC_URLS"),
  /** A whole upload or download passes through one proxied request, so this bounds the slowest transfer allowed. */
  filesProxyTimeoutMs: env.int("FILES_PROXY_TIMEOUT_MS", 300_000, "how long a file upload or download through the gateway may take", { min: 1_000 }),
  /** Connections to the files replicas are shared by everyone: one user's uploads take only a few. */
  filesUploadsPerUser: env.int("FILES_UPLOADS_PER_USER", 4, "uploads one user may have under way at once, over every gateway", { min: 1 }),
  filesUploadBodyGraceSeconds: env.int("FILES_UPLOAD_BODY_GRACE_SECONDS", 10, "seconds an upload's body may take before FILES_UPLOAD_MIN_BYTES_PER_SECOND applies", { min: 1 }),
  filesUploadMinBytesPerSecond: env.int("FILES_UPLOAD_MIN_BYTES_PER_SECOND", 32 * 1024, "slowest average rate an upload's body may arrive at after the grace; slower uploads are cut off", { min: 1 }),
  webDist: env.string("WEB_DIST", "web/dist", "folder of the built web app served at /"),
  corsOrigins: env.list("CORS_ORIGINS", [], "origins allowed to call the API from a browser (comma-separated)"),
  bodyLimitBytes: env.int("BODY_LIMIT_BYTES", 1024 * 1024, "largest JSON request body", { min: 1024 }),
  rpcTimeoutMs: env.int("RPC_TIMEOUT_MS", 5_000, "how long a service may take to answer", { min: 100 }),
  collabMaxBufferedBytes: env.int("COLLAB_MAX_BUFFERED_BYTES", 8 * 1024 * 1024, "outgoing bytes a slow /collab client may have queued", { min: 64 * 1024 }),
  /** Presigned upload and download URLs point here, so the Content-Security-Policy allows its origin. */
  s3PublicEndpoint: env.optionalString("S3_PUBLIC_ENDPOINT", "S3 endpoint written into presigned URLs for clients (default S3_ENDPOINT)"),
  imageHosts: imageHostList("IMAGE_HOSTS", "remote https origins board image cards may show pictures from (comma-separated, e.g. https://images.example.com,https://*.example.org); the Content-Security-Policy blocks every other host"),
  hstsMaxAgeSeconds: env.int("HSTS_MAX_AGE_SECONDS", 15_552_000, "Strict-Transport-Security max-age, sent only on requests that came over TLS (directly or, with TRUST_PROXY, per X-Forwarded-Proto); 0 turns it off", { min: 0 }),
  sessionCookieMaxAgeSeconds: env.int("SESSION_COOKIE_MAX_AGE_SECONDS", 30 * 86_400, "how long a browser keeps the refresh-token cookie (match auth's REFRESH_TOKEN_TTL_SECONDS; the server's expiry still decides)", { min: 60 }),
  trustProxy: trustedProxies,
  rateLimitWindowSeconds: env.int("RATE_LIMIT_WINDOW_SECONDS", 60, "length of a rate-limit window", { min: 1 }),
  rateLimitAuthPerWindow: env.int("RATE_LIMIT_AUTH_PER_WINDOW", 20, "sign-in, sign-up and refresh calls per client address per window", { min: 1 }),
  rateLimitUserPerWindow: env.int("RATE_LIMIT_USER_PER_WINDOW", 600, "API calls per signed-in user per window", { min: 1 }),
  /**
   * Failed sign-ins lock an account for the address they come from first (5 tries, then 1 min,
   * doubling with each further lockout that day up to 15 min), so whoever guesses from one place
   * is slowed at once, while the account's owner elsewhere can still sign in. Failures from every
   * address together lock the account for everyone, briefly and without growing: a guess spread
   * over many addresses is bounded too, and locking someone out costs an attacker many requests
   * for a short lock.
   */
  loginFailuresPerAddress: env.int("LOGIN_FAILURES_PER_ADDRESS", 5, "failed sign-ins to one account from one client address, within the window, that lock the account for that address", { min: 1 }),
  loginFailuresPerAccount: env.int("LOGIN_FAILURES_PER_ACCOUNT", 50, "failed sign-ins to one account from all addresses, within the window, that lock it for every address", { min: 1 }),
  loginFailureWindowSeconds: env.int("LOGIN_FAILURE_WINDOW_SECONDS", 900, "how long a failed sign-in counts towards a lockout", { min: 1 }),
  loginLockoutSeconds: env.int("LOGIN_LOCKOUT_SECONDS", 60, "first lockout of an account for an address, and every lockout of the whole account", { min: 1 }),
  loginLockoutMaxSeconds: env.int("LOGIN_LOCKOUT_MAX_SECONDS", 900, "longest lockout for an address: each further one within a day doubles until this", { min: 1 }),
  rateLimitCollabConnectsPerWindow: env.int("RATE_LIMIT_COLLAB_CONNECTS_PER_WINDOW", 120, "/collab connections a user may open per window", { min: 1 }),
} as const;

export type GatewayConfig = ConfigOf<typeof gatewayConfigSpec>;
export const loadGatewayConfig = (source: NodeJS.ProcessEnv = process.env): GatewayConfig => loadConfig(gatewayConfigSpec, source);
