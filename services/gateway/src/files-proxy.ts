import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { PassThrough } from "node:stream";
import replyFrom from "@fastify/reply-from";
import { AppError } from "@palimpsest/contracts";
import { traceHttpHeaders } from "@palimpsest/platform";
import type { ProxiedRoute } from "./routes.ts";
import type { Upstreams } from "./upstreams.ts";
import { watchBodyRate, type UploadSlots } from "./upload-slots.ts";

export interface FilesProxyOptions {
  routes: readonly ProxiedRoute[];
  /** Files replicas, fixed or discovered; requests are spread over them. */
  upstreams: Upstreams;
  timeoutMs: number;
  /** Authenticates and rate-limits, as for every other API route; throws to refuse. */
  guard(req: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** Uploads under way per user. */
  slots: UploadSlots;
  /** How fast an upload's body must arrive. */
  bodyRate: { graceMs: number; minBytesPerSecond: number };
}

/** A slot for this upload, released when its answer is over; false when the user has too many under way. */
async function takeSlot(req: FastifyRequest, reply: FastifyReply, slots: UploadSlots): Promise<boolean> {
  const userId = req.caller?.userId;
  if (!userId) return true;
  try {
    if (!(await slots.take(userId, req.id))) return false;
  } catch (err) {
    // As for the rate limits: Redis being down must not stop uploads.
    req.log.warn({ err }, "upload slots unavailable; letting the upload through");
    return true;
  }
  reply.raw.once("close", () => {
    slots.release(userId, req.id).catch((err: unknown) => req.log.warn({ err }, "could not release an upload slot; it lapses by itself"));
  });
  return true;
}

/** Headers a client must not pass on to a service: hop-by-hop ones, and the gateway's own. */
const DROPPED_REQUEST_HEADERS = ["cookie", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "forwarded"];

/**
 * Streams uploads and downloads between clients and the files service over HTTP (a file does not
 * fit a NATS message). The body is never parsed here: whatever the client sends, after the guard
 * has accepted the request, flows to a files replica, which checks the access token again, so a
 * request that skipped the gateway gains nothing. Registered in a scope of its own, so the raw
 * pass-through parser applies to these routes only.
 */
export async function registerFilesProxy(http: FastifyInstance, opts: FilesProxyOptions): Promise<void> {
  await http.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    // The upstream request reads the body through a stream of its own. When the files service
    // answers before the body has all arrived (a refusal), undici ends that request and destroys
    // its body stream; were it the client's request itself, the client's connection would be reset
    // while it is still sending, and it would never read the answer. Detached instead, the rest of
    // the client's body is read and discarded here (createHttpApp's lingering close).
    scope.addContentTypeParser("*", (_req, payload, done) => done(null, payload.pipe(new PassThrough())));
    // No fixed base: each request names its replica (getUpstream below), and undici keeps a pool per origin.
    await scope.register(replyFrom, {
      disableRequestLogging: true,
      undici: { connections: 64, headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs },
    });
    for (const route of opts.routes) {
      scope.route({
        method: route.method,
        url: route.url,
        // Only the path and query are checked here; the body is the files service's to read.
        schema: { params: route.schema.params, ...(route.schema.querystring ? { querystring: route.schema.querystring } : {}) },
        preHandler: opts.guard,
        handler: async (req, reply) => {
          // A body is streamed once, so a request goes to one replica and is not retried elsewhere.
          const upstream = opts.upstreams.pick()[0];
          if (!upstream) {
            const err = new AppError("UNAVAILABLE", "the files service is not available; try again shortly");
            return reply.status(err.status).send(err.toBody());
          }
          if (route.method === "POST") {
            if (!(await takeSlot(req, reply, opts.slots))) {
              const err = new AppError("RATE_LIMITED", "too many of your uploads are under way; wait for one to finish");
              return reply.status(err.status).header("retry-after", "5").send(err.toBody());
            }
            watchBodyRate(req.raw, opts.bodyRate, (received, elapsedMs) => {
              req.log.warn({ received, elapsedMs }, "upload body too slow; closing the connection");
              req.raw.destroy();
            });
          }
          return reply.from(req.url, {
            getUpstream: () => new URL(upstream).origin,
            timeout: opts.timeoutMs,
            rewriteRequestHeaders: (r, headers) => {
              // The files replica continues this request's trace (with tracing off, nothing is added).
              const out: Record<string, string | string[] | undefined> = { ...headers, "x-request-id": r.id, ...traceHttpHeaders(r.traceSpan?.ctx) };
              for (const h of DROPPED_REQUEST_HEADERS) delete out[h];
              return out as typeof headers;
            },
            onError: (rep, { error }) => {
              const status = (error as { statusCode?: number }).statusCode;
              const err =
                status === 504
                  ? new AppError("TIMEOUT", "the files service did not answer in time")
                  : new AppError("UNAVAILABLE", "the files service is not available; try again shortly");
              req.log.warn({ err: error }, "files proxy failed");
              void rep.status(err.status).send(err.toBody());
            },
          });
        },
      });
    }
  });
}
