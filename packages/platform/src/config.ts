import os from "node:os";

/**
 * Config is read from the environment once, at start, validated as a whole (every problem is
 * reported, not just the first), frozen, and passed down. Nothing else reads `process.env`.
 */
export interface Field<T> {
  readonly env: string;
  readonly doc: string;
  readonly defaultText: string;
  parse(raw: string | undefined): T;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

function field<T>(env: string, doc: string, defaultText: string, parse: (raw: string | undefined) => T): Field<T> {
  return { env, doc, defaultText, parse };
}

export const env = {
  string(name: string, fallback: string, doc: string): Field<string> {
    return field(name, doc, fallback, (raw) => (raw === undefined || raw === "" ? fallback : raw));
  },
  optionalString(name: string, doc: string): Field<string | undefined> {
    return field(name, doc, "(unset)", (raw) => (raw === undefined || raw === "" ? undefined : raw));
  },
  url(name: string, fallback: string, doc: string): Field<string> {
    return field(name, doc, fallback, (raw) => {
      const value = raw === undefined || raw === "" ? fallback : raw;
      try {
        new URL(value);
      } catch {
        throw new Error(`${name} is not a URL: ${value}`);
      }
      return value;
    });
  },
  optionalUrl(name: string, doc: string): Field<string | undefined> {
    return field(name, doc, "(unset)", (raw) => {
      if (raw === undefined || raw === "") return undefined;
      try {
        new URL(raw);
      } catch {
        throw new Error(`${name} is not a URL: ${raw}`);
      }
      return raw;
    });
  },
  /** A decimal number (a ratio, a fraction); `int` refuses these. */
  number(name: string, fallback: number, doc: string, bounds: { min?: number; max?: number } = {}): Field<number> {
    return field(name, doc, String(fallback), (raw) => {
      if (raw === undefined || raw.trim() === "") return fallback;
      const value = Number(raw);
      if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got ${JSON.stringify(raw)}`);
      if (bounds.min !== undefined && value < bounds.min) throw new Error(`${name} must be >= ${bounds.min}`);
      if (bounds.max !== undefined && value > bounds.max) throw new Error(`${name} must be <= ${bounds.max}`);
      return value;
    });
  },
  int(name: string, fallback: number, doc: string, bounds: { min?: number; max?: number } = {}): Field<number> {
    return field(name, doc, String(fallback), (raw) => {
      if (raw === undefined || raw === "") return fallback;
      const value = Number(raw);
      if (!Number.isInteger(value)) throw new Error(`${name} must be an integer, got ${JSON.stringify(raw)}`);
      if (bounds.min !== undefined && value < bounds.min) throw new Error(`${name} must be >= ${bounds.min}`);
      if (bounds.max !== undefined && value > bounds.max) throw new Error(`${name} must be <= ${bounds.max}`);
      return value;
    });
  },
  bool(name: string, fallback: boolean, doc: string): Field<boolean> {
    return field(name, doc, String(fallback), (raw) => {
      if (raw === undefined || raw === "") return fallback;
      if (["1", "true", "yes", "on"].includes(raw.toLowerCase())) return true;
      if (["0", "false", "no", "off"].includes(raw.toLowerCase())) return false;
      throw new Error(`${name} must be true or false, got ${JSON.stringify(raw)}`);
    });
  },
  list(name: string, fallback: readonly string[], doc: string): Field<readonly string[]> {
    return field(name, doc, fallback.join(","), (raw) =>
      raw === undefined || raw.trim() === ""
        ? [...fallback]
        : raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0),
    );
  },
  oneOf<const T extends string>(name: string, values: readonly T[], fallback: T, doc: string): Field<T> {
    return field(name, doc, fallback, (raw) => {
      const value = raw === undefined || raw === "" ? fallback : raw;
      if (!(values as readonly string[]).includes(value)) throw new Error(`${name} must be one of ${values.join(", ")}`);
      return value as T;
    });
  },
} as const;

export type ConfigSpec = Record<string, Field<unknown>>;
export type ConfigOf<S extends ConfigSpec> = { readonly [K in keyof S]: S[K] extends Field<infer T> ? T : never };

export function loadConfig<S extends ConfigSpec>(spec: S, source: NodeJS.ProcessEnv = process.env): ConfigOf<S> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(spec)) {
    try {
      out[key] = f.parse(source[f.env]);
    } catch (err) {
      problems.push(err instanceof Error ? err.message : String(err));
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(out) as ConfigOf<S>;
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** The credentials a local run's stores use (devkit), built in as defaults so a local run needs no settings. */
const LOCAL_DATABASE_URL = "postgres://palimpsest:palimpsest@127.0.0.1:54320/palimpsest";
const LOCAL_S3_KEY = "S3RVER";

/** Settings every service shares: where the stores are and how to log. */
export const commonConfig = {
  nodeEnv: env.string("NODE_ENV", "development", "`production` (the image sets it) refuses to start on the built-in database and S3 credentials; anything else is a local run"),
  natsUrl: env.string("NATS_URL", "nats://127.0.0.1:4222", "NATS server(s), comma-separated"),
  natsUser: env.optionalString("NATS_USER", "this service's NATS user (its name: gateway, auth, docs, sync, files, history)"),
  natsPassword: env.optionalString("NATS_PASSWORD", "this service's NATS password"),
  databaseUrl: env.url("DATABASE_URL", LOCAL_DATABASE_URL, "PostgreSQL connection string, as this service's own role (built-in default: local runs only)"),
  redisUrl: env.url("REDIS_URL", "redis://127.0.0.1:6380", "Redis connection string"),
  s3Endpoint: env.url("S3_ENDPOINT", "http://127.0.0.1:9000", "S3-compatible endpoint (AWS S3, MinIO, Ceph, R2 ...)"),
  s3Region: env.string("S3_REGION", "us-east-1", "S3 region"),
  s3Bucket: env.string("S3_BUCKET", "palimpsest", "bucket for files and large snapshots"),
  s3AccessKeyId: env.string("S3_ACCESS_KEY_ID", LOCAL_S3_KEY, "S3 access key id (built-in default: local runs only)"),
  s3SecretAccessKey: env.string("S3_SECRET_ACCESS_KEY", LOCAL_S3_KEY, "S3 secret access key (built-in default: local runs only)"),
  streamReplicas: env.int("STREAM_REPLICAS", 1, "JetStream replicas per stream (3 on a cluster)", { min: 1, max: 5 }),
  logLevel: env.oneOf("LOG_LEVEL", ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const, "info", "pino log level"),
  host: env.string("HOST", "127.0.0.1", "interface the service listens on"),
  replicaId: env.string("REPLICA_ID", `${os.hostname()}-${process.pid}`, "name of this replica in logs and headers"),
  jwtIssuer: env.string("JWT_ISSUER", "palimpsest", "issuer of access tokens"),
  jwtAudience: env.string("JWT_AUDIENCE", "palimpsest", "audience of access tokens"),
  // Tracing (see tracing.ts) is off unless an OTLP endpoint is named; the names are OpenTelemetry's own.
  otlpEndpoint: env.optionalUrl("OTEL_EXPORTER_OTLP_ENDPOINT", "OTLP/HTTP collector base URL (traces are posted to its /v1/traces); unset, with no traces endpoint either, tracing is off"),
  otlpTracesEndpoint: env.optionalUrl("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "full OTLP/HTTP URL for traces, used as is (wins over OTEL_EXPORTER_OTLP_ENDPOINT)"),
  otelServiceName: env.optionalString("OTEL_SERVICE_NAME", "service.name of this process's spans (default the service's own name: gateway, auth ...)"),
  traceSampleRatio: env.number("OTEL_TRACES_SAMPLER_ARG", 1, "fraction of new traces recorded when tracing is on (0-1); a trace begun upstream keeps its caller's decision", { min: 0, max: 1 }),
} as const;
export type CommonConfig = ConfigOf<typeof commonConfig>;

/**
 * Outside a local run (NODE_ENV=production) a service must be given its stores' credentials: the
 * built-in ones are public, so running on them silently would leave the data open. Each service
 * names the stores it uses; an unset setting and one set to the built-in value are refused alike.
 */
export function refuseBuiltInCredentials(config: Pick<CommonConfig, "nodeEnv" | "databaseUrl" | "s3AccessKeyId" | "s3SecretAccessKey">, uses: { postgres?: boolean; s3?: boolean }): void {
  if (config.nodeEnv !== "production") return;
  const problems: string[] = [];
  if (uses.postgres && new URL(config.databaseUrl).password === new URL(LOCAL_DATABASE_URL).password) {
    problems.push("DATABASE_URL is unset or has the built-in local password: set this service's own database URL (NODE_ENV=production)");
  }
  if (uses.s3 && (config.s3AccessKeyId === LOCAL_S3_KEY || config.s3SecretAccessKey === LOCAL_S3_KEY)) {
    problems.push("S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY are unset or the built-in local ones: set real S3 credentials (NODE_ENV=production)");
  }
  if (problems.length > 0) throw new ConfigError(problems);
}
