import fs from "node:fs";
import path from "node:path";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fastifyStatic from "@fastify/static";
import { AppError } from "@palimpsest/contracts";
import type { Logger } from "@palimpsest/platform";

/** The built web app, when there is one: its files, and its index page for every client-side route. */
export interface WebApp {
  readonly present: boolean;
  /** For routes nothing else matched: the app's page for client-side routes, else a JSON 404. */
  notFound(req: FastifyRequest, reply: FastifyReply): unknown;
  /** Serves the files; registered after the API so that /api is never shadowed. */
  register(http: FastifyInstance): Promise<void>;
}

/** Whether a request nothing else matched is one of the app's own pages, answered with index.html. */
export function isClientRoute(method: string, path: string): boolean {
  const isApi = path.startsWith("/api/") || path.startsWith("/collab/") || path.startsWith("/.well-known/");
  // A missing file (an old tab asking for a replaced bundle) is a 404, not the app page.
  const isFile = path.startsWith("/assets/") || /\.[A-Za-z0-9]{1,8}$/.test(path);
  // Client-side routes (/d/:id, /b/:id ...) all load the app's index page.
  return (method === "GET" || method === "HEAD") && !isApi && !isFile;
}

export function webApp(dist: string, log: Logger): WebApp {
  const root = path.resolve(dist);
  const present = fs.existsSync(path.join(root, "index.html"));
  if (!present) log.warn({ webDist: root }, "web app is not built; serving the API only");
  return {
    present,
    notFound(req, reply) {
      const url = req.url.split("?")[0] ?? "/";
      if (present && isClientRoute(req.method, url)) {
        return reply.header("cache-control", "no-cache").type("text/html").sendFile("index.html", { maxAge: 0 });
      }
      return reply.status(404).send(new AppError("NOT_FOUND", `no route ${req.method} ${url}`).toBody());
    },
    async register(http) {
      if (!present) return;
      // Files are looked up per request, so a rebuilt web/dist is served without a restart.
      // Bundles have content hashes in their names and never change: cache them for good;
      // index.html must be revalidated so a deploy reaches every browser at once.
      await http.register(fastifyStatic, {
        root,
        wildcard: true,
        index: ["index.html"],
        cacheControl: false,
        setHeaders: (res, filePath) => {
          res.setHeader("cache-control", filePath.includes(`${path.sep}assets${path.sep}`) ? "public, max-age=31536000, immutable" : "no-cache");
        },
      });
    },
  };
}
