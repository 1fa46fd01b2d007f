import type { ApiRoute, ProxiedRoute } from "./routes.ts";

/** The OpenAPI document is generated from the same route tables the gateway serves, so it cannot drift. */
export function openApiDocument(routes: readonly ApiRoute[], proxied: readonly ProxiedRoute[] = []): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of proxied) {
    const path = r.url.replace(/:([A-Za-z]+)/g, "{$1}");
    const parameters = [
      ...Object.entries((r.schema.params as { properties?: Record<string, unknown> }).properties ?? {}).map(([name, s]) => ({ name, in: "path", required: true, schema: s })),
      ...Object.entries((r.schema.querystring as { properties?: Record<string, unknown> } | undefined)?.properties ?? {}).map(([name, s]) => ({ name, in: "query", required: false, schema: s })),
    ];
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = {
      summary: r.summary,
      security: [{ bearer: [] }],
      parameters,
      ...(r.bodies ? { requestBody: { required: true, content: Object.fromEntries(Object.entries(r.bodies).map(([type, schema]) => [type, { schema }])) } } : {}),
      responses: {
        default: { description: "an error", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
        "2XX": { description: "success", content: Object.fromEntries(r.answers.map((type) => [type, type === "application/json" ? {} : { schema: { type: "string", format: "binary" } }])) },
      },
    };
  }
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z]+)/g, "{$1}");
    const parameters: unknown[] = [];
    for (const [name, s] of Object.entries((r.schema.params as { properties?: Record<string, unknown> } | undefined)?.properties ?? {})) {
      parameters.push({ name, in: "path", required: true, schema: s });
    }
    for (const [name, s] of Object.entries((r.schema.querystring as { properties?: Record<string, unknown> } | undefined)?.properties ?? {})) {
      parameters.push({ name, in: "query", required: false, schema: s });
    }
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = {
      summary: r.summary,
      ...(r.auth ? { security: [{ bearer: [] }] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(r.schema.body ? { requestBody: { required: true, content: { "application/json": { schema: r.schema.body } } } } : {}),
      ...(r.rawBody ? { requestBody: { required: true, content: Object.fromEntries(r.rawBody.mediaTypes.map((t) => [t, { schema: { type: "string", format: "binary" } }])) } } : {}),
      responses: {
        default: { description: "an error", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
        "2XX": {
          description: "success",
          ...(r.ndjsonPages ? { content: { "application/x-ndjson": { schema: { type: "string" } } } } : {}),
          ...(r.download ? { content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } } } : {}),
        },
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "Palimpsest API", version: "0.1.0" },
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
      schemas: {
        Error: {
          type: "object",
          required: ["error"],
          properties: { error: { type: "object", required: ["code", "message"], properties: { code: { type: "string" }, message: { type: "string" } } } },
        },
      },
    },
  };
}
