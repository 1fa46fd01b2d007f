import { PassThrough } from "node:stream";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { Gauge, type Registry } from "prom-client";
import { AppError, INBOX_CHANGED_EVENT, subjects, type InboxChangedNotice } from "@palimpsest/contracts";
import { delayUntil, type Logger, type RevocationList, type TokenVerifier } from "@palimpsest/platform";

export interface InboxStreamOptions {
  nc: NatsConnection;
  log: Logger;
  registry: Registry;
  /** The signed-in guard every REST route runs: token, revocation, the per-user rate. */
  guard(req: FastifyRequest, reply: FastifyReply): Promise<void>;
  verifier: TokenVerifier;
  revocations: RevocationList;
  /** A comment line this often keeps proxies from closing an idle stream. @default 25000 */
  heartbeatMs?: number;
  /** Open streams per person on one gateway (a tab each). @default 10 */
  maxPerUser?: number;
}

export interface InboxStreams {
  /** Ends every open stream (shutdown): the pages reconnect to another gateway. */
  close(): void;
}

/** What a page has not read off its stream yet, beyond which it is dropped (it reconnects and reads the inbox again). */
const MAX_UNREAD_BYTES = 64 * 1024;

/**
 * `GET /api/notifications/live`: Server-Sent Events telling a signed-in page that its person's
 * inbox changed, as the docs service's notifications read model commits it, so the page reads
 * `GET /api/notifications` again at once instead of on its next poll. The first event is sent at
 * once (read now: anything may have changed while the page was not listening). The stream ends
 * when the access token expires or its session is revoked; the page reconnects with a fresh token.
 * A page that cannot send an Authorization header on an EventSource reads it with fetch.
 */
export function registerInboxStream(http: FastifyInstance, opts: InboxStreamOptions): InboxStreams {
  const heartbeatMs = opts.heartbeatMs ?? 25_000;
  const maxPerUser = opts.maxPerUser ?? 10;
  const log = opts.log.child({ component: "inbox-stream" });
  const open = new Map<string, Set<() => void>>();
  const bySession = new Map<string, Set<() => void>>();
  const gauge = new Gauge({ name: "gateway_inbox_streams", help: "open live inbox streams (GET /api/notifications/live)", registers: [opts.registry] });

  opts.revocations.onRevoked((sessionId) => {
    for (const end of [...(bySession.get(sessionId) ?? [])]) end();
  });

  const add = (map: Map<string, Set<() => void>>, key: string, end: () => void) => {
    let set = map.get(key);
    if (!set) map.set(key, (set = new Set()));
    set.add(end);
  };
  const remove = (map: Map<string, Set<() => void>>, key: string, end: () => void) => {
    const set = map.get(key);
    set?.delete(end);
    if (set?.size === 0) map.delete(key);
  };

  http.get("/api/notifications/live", { preHandler: opts.guard }, async (req, reply) => {
    const token = req.accessToken;
    if (!req.caller || !token) throw new AppError("UNAUTHENTICATED", "sign in first");
    // A person's inbox is theirs, signed in: a script's token reads documents, not their mail.
    if (req.caller.token) throw new AppError("API_TOKEN_NOT_ALLOWED", "an API token cannot follow an inbox; sign in");
    const { userId, sessionId } = req.caller;
    if ((open.get(userId)?.size ?? 0) >= maxPerUser) throw new AppError("RATE_LIMITED", `at most ${maxPerUser} live inbox streams at once`);
    const { expiresAt } = await opts.verifier.verify(token);

    const out = new PassThrough();
    let ended = false;
    const send = (chunk: string): void => {
      if (ended) return;
      // A page that stopped reading is let go rather than buffered for.
      if (out.writableLength > MAX_UNREAD_BYTES) return end();
      out.write(chunk);
    };
    const event = (notice: InboxChangedNotice): void => send(`event: ${INBOX_CHANGED_EVENT}\ndata: ${JSON.stringify(notice)}\n\n`);
    function end(): void {
      if (ended) return;
      ended = true;
      sub.unsubscribe();
      clearInterval(heartbeat);
      clearTimeout(expiry);
      remove(open, userId, end);
      remove(bySession, sessionId, end);
      gauge.dec();
      out.end();
    }

    add(open, userId, end);
    add(bySession, sessionId, end);
    gauge.inc();
    const sub: Subscription = opts.nc.subscribe(subjects.inboxChanged(userId), {
      callback: (err, msg) => {
        if (err) return end();
        // Only the time goes on: the page learns what changed from the inbox itself.
        let at = new Date().toISOString();
        try {
          const notice = msg.json<Partial<InboxChangedNotice>>();
          if (typeof notice.at === "string" && !Number.isNaN(Date.parse(notice.at))) at = notice.at;
        } catch {
          log.warn("ignoring a malformed inbox notice");
        }
        event({ at });
      },
    });
    const heartbeat = setInterval(() => send(": keep-alive\n\n"), heartbeatMs);
    // A token that outlives a timer ends the stream then; the page opens another.
    const expiry = setTimeout(end, delayUntil(expiresAt));
    req.raw.on("close", end);
    out.on("error", end);
    // Reconnect after 2 s if the stream breaks; then an event at once, for what may have been missed.
    out.write("retry: 2000\n\n");
    event({ at: new Date().toISOString() });
    return reply
      .header("content-type", "text/event-stream; charset=utf-8")
      .header("cache-control", "no-store")
      .header("x-accel-buffering", "no")
      .send(out);
  });

  return {
    close() {
      for (const ends of [...open.values()]) for (const end of [...ends]) end();
    },
  };
}
