/**
 * A child process of bench/sync.ts's "connections" part: holds some thousands of idle /collab
 * clients, since one process may hold only 20,000 descriptors here and the part opens more. It
 * opens the clients it is sent a few at a time, and answers how many of them are synced now.
 */
import { closeCodesSeen, hocuspocusClient, yWebsocketClient, type BenchClient } from "./sync-clients.ts";
import { CLIENTS_PER_WORKER, type WorkerReply, type WorkerRequest } from "./connection-workers.ts";

const clients: BenchClient[] = [];
// y-websocket's provider listens for the process's exit, one listener per client.
process.setMaxListeners(CLIENTS_PER_WORKER + 100);

function reply(message: WorkerReply): void {
  process.send?.(message);
}

async function open(request: Extract<WorkerRequest, { op: "open" }>): Promise<void> {
  const started = performance.now();
  let next = 0;
  let failed = 0;
  const one = async (): Promise<void> => {
    while (next < request.clients.length) {
      const c = request.clients[next++]!;
      const client = c.kind === "ours" ? yWebsocketClient(c.url, c.room, c.token ?? "") : hocuspocusClient(c.url, c.room);
      clients.push(client);
      // Bounded: a client that never syncs is counted, not waited for forever.
      const outcome = await Promise.race([client.synced.then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 60_000).unref())]);
      if (!outcome) failed++;
    }
  };
  await Promise.all(Array.from({ length: request.concurrency }, one));
  reply({ op: "opened", ms: performance.now() - started, failed });
}

process.on("message", (raw: unknown) => {
  const request = raw as WorkerRequest;
  switch (request.op) {
    case "open":
      void open(request).catch((err: unknown) => reply({ op: "error", message: String(err) }));
      return;
    case "count":
      reply({ op: "count", synced: clients.filter((c) => c.isSynced()).length, total: clients.length, closes: Object.fromEntries(closeCodesSeen) });
      return;
    case "close":
      for (const c of clients.splice(0)) c.destroy();
      reply({ op: "closed" });
      setTimeout(() => process.exit(0), 200).unref();
      return;
  }
});
// The parent going away ends this process too: nothing is left holding sockets.
process.on("disconnect", () => process.exit(0));
