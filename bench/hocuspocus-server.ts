/**
 * A Hocuspocus server as its own process, for bench/sync.ts: `Server` from @hocuspocus/server
 * with no extensions (documents live in memory only), quiet, on 127.0.0.1 and the port given as
 * the first argument. Hocuspocus' own `listen()` passes `address` to `net.Server.listen`, which
 * ignores it (and so listens on every interface); this script calls `listen(port, "127.0.0.1")`
 * on its HTTP server instead. Same Node, same tsx loader as our services.
 *
 * With HOCUSPOCUS_STATE_DIR set, an `onLoadDocument` hook applies `<dir>/<name>.ystate` (a
 * `Y.encodeStateAsUpdate` of the document, which is what Hocuspocus' database extension stores
 * and loads) to a document when it is created: the "open a persisted document" case.
 *
 * GET /stats answers {documents, connections} so the benchmark can check what the server holds.
 * SIGTERM closes it.
 */
import fs from "node:fs";
import path from "node:path";
import { Server, type onLoadDocumentPayload, type onRequestPayload } from "@hocuspocus/server";
import * as Y from "yjs";

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) throw new Error("usage: hocuspocus-server.ts <port>");
const stateDir = process.env["HOCUSPOCUS_STATE_DIR"];

const server = new Server({
  name: "bench",
  quiet: true,
  stopOnSignals: false,
  async onRequest({ request, response, instance }: onRequestPayload) {
    if (request.url !== "/stats") return;
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ documents: instance.getDocumentsCount(), connections: instance.getConnectionsCount() }));
    // Rejecting with nothing stops Hocuspocus' default answer.
    throw null;
  },
  ...(stateDir
    ? {
        async onLoadDocument({ document, documentName }: onLoadDocumentPayload) {
          const file = path.join(stateDir, `${encodeURIComponent(documentName)}.ystate`);
          if (fs.existsSync(file)) Y.applyUpdate(document, new Uint8Array(fs.readFileSync(file)));
        },
      }
    : {}),
});

server.httpServer.listen(port, "127.0.0.1", () => console.log(`hocuspocus listening on 127.0.0.1:${port}`));

let stopping = false;
process.on("SIGTERM", () => {
  if (stopping) return;
  stopping = true;
  void server.destroy().finally(() => process.exit(0));
});
