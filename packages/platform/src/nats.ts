import { connect, nanos, type NatsConnection } from "@nats-io/transport-node";
import {
  DiscardPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstreamManager,
  type JetStreamManager,
  type StreamConfig,
} from "@nats-io/jetstream";
import { Streams, subjects } from "@palimpsest/contracts";
import type { Logger } from "./logger.ts";
import { inboxPrefixOf, type BusUser } from "./bus-permissions.ts";
import { busUnavailable } from "./bus-errors.ts";

export interface NatsSettings {
  natsUrl: string;
  natsUser?: string | undefined;
  natsPassword?: string | undefined;
}

/**
 * Connects as the given NATS user. Replies come to inboxes under the user's own prefix, which is
 * all of `_INBOX…` its permissions let it subscribe to (see bus-permissions.ts).
 */
export async function connectNats(settings: NatsSettings, name: string, log: Logger, opts: { noEcho?: boolean } = {}): Promise<NatsConnection> {
  const auth =
    settings.natsUser === undefined
      ? {}
      : { user: settings.natsUser, pass: settings.natsPassword ?? "", inboxPrefix: inboxPrefixOf(settings.natsUser as BusUser) };
  const nc = await connect({
    servers: settings.natsUrl.split(",").map((s) => s.trim()),
    name,
    ...auth,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    pingInterval: 10_000,
    // By default every request (so every JetStream publish) builds two Error objects up front to
    // keep the caller's stack; on the edit path that cost more CPU than the rest of the publish.
    // Failures are logged with their context where they are handled.
    noAsyncTraces: true,
    // A process that ignores what it publishes itself need not have it sent back.
    ...(opts.noEcho ? { noEcho: true } : {}),
  });
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect" || s.type === "reconnect" || s.type === "error") {
        log.warn({ natsStatus: s.type }, "nats connection status changed");
      }
    }
  })();
  return nc;
}

/**
 * The event streams. Events are history, so nothing may age out or be deleted:
 * no limits, `discard: new` (a full store refuses writes instead of dropping the oldest),
 * and deletes and purges denied, except purging a purged document's subject from EDITS (erasure).
 */
export function streamConfigs(replicas: number): StreamConfig[] {
  const common = {
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    num_replicas: replicas,
    duplicate_window: nanos(120_000),
    deny_delete: true,
    deny_purge: true,
    allow_direct: true,
    max_msg_size: 8 * 1024 * 1024,
  };
  return [
    // A purged document's edits are erased for real (purge by subject); only history's NATS user may
    // call the purge API, and only on this stream (bus-permissions.ts).
    { ...common, deny_purge: false, name: Streams.edits, subjects: [subjects.allEdits()] },
    { ...common, name: Streams.docs, subjects: [subjects.allDocEvents(), subjects.allFileEvents(), subjects.allErasures(), subjects.allInboxes(), subjects.allWorkspaceEvents()] },
    { ...common, name: Streams.auth, subjects: [subjects.allAuthEvents()] },
    // The outbox is not history: a mail leaves it once sent (work queue), and one nobody could send
    // in a week is dropped, since its links have expired by then and it carries their tokens.
    {
      ...common,
      name: Streams.mail,
      subjects: [subjects.allMail()],
      retention: RetentionPolicy.Workqueue,
      max_age: nanos(7 * 86_400_000),
      deny_purge: false,
      max_msg_size: 256 * 1024,
    },
    // Not history either: the latest head per document (edit-heads.ts in the contracts), so a
    // newer message on a subject replaces the older one. Erasure writes an empty message rather
    // than purging, so deletes and purges stay denied.
    {
      ...common,
      name: Streams.editHeads,
      subjects: [subjects.allEditHeads()],
      max_msgs_per_subject: 1,
      discard: DiscardPolicy.Old,
      max_msg_size: 1024,
    },
  ] as StreamConfig[];
}

const STREAM_NAME_IN_USE = 10058;

export interface EnsureStreamsOptions {
  /**
   * Bring an existing stream's config up to date (the admin's stream set-up). Without it a stream
   * is only created when missing: services may not change a stream, so one that lacks a subject
   * they need is an error that says to run the set-up.
   */
  update: boolean;
  configs?: StreamConfig[];
}

/**
 * Creates the streams, or brings an existing one's config up to date. Safe to run from every
 * replica at once, and from replicas of different releases during a rolling deploy: a stream's
 * subjects only ever grow, so an older release's set-up cannot take away a subject that a newer
 * one added (its events would then have nowhere to go).
 */
export async function ensureStreams(jsm: JetStreamManager, replicas: number, opts: EnsureStreamsOptions): Promise<void> {
  for (const cfg of opts.configs ?? streamConfigs(replicas)) {
    try {
      await jsm.streams.add(cfg);
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === STREAM_NAME_IN_USE) {
        const { name, ...rest } = cfg;
        const current = await jsm.streams.info(name);
        const have = current.config.subjects ?? [];
        const missing = (cfg.subjects ?? []).filter((s) => !have.includes(s));
        if (!opts.update) {
          if (missing.length > 0) {
            throw new Error(`stream ${name} lacks subjects ${missing.join(", ")}: run the stream set-up (npm run setup-streams) with the admin NATS user`);
          }
          continue;
        }
        // The server refuses to turn deny_purge off on an existing stream; an older EDITS keeps it
        // (and erasure then fails loudly, naming the stream) rather than the whole set-up failing.
        await jsm.streams.update(name, { ...rest, deny_purge: current.config.deny_purge || rest.deny_purge, subjects: [...new Set([...have, ...(cfg.subjects ?? [])])] });
        continue;
      }
      throw err;
    }
  }
}

export interface PrepareStreamsOptions {
  /** How long the bus may take to answer before the start fails. @default 60000 */
  deadlineMs?: number;
}

/**
 * A service's first words to JetStream at start: makes sure the event streams exist (never
 * changing one, see ensureStreams) and returns the manager. A bus that does not answer yet, as
 * while a cluster elects its leaders or a node rejoins it, is waited for and asked again instead
 * of failing the start; anything else, such as a stream that lacks a subject, fails at once.
 */
export async function prepareStreams(nc: NatsConnection, replicas: number, log: Logger, opts: PrepareStreamsOptions = {}): Promise<JetStreamManager> {
  const deadline = performance.now() + (opts.deadlineMs ?? 60_000);
  for (let attempt = 0; ; attempt++) {
    try {
      const jsm = await jetstreamManager(nc);
      await ensureStreams(jsm, replicas, { update: false });
      return jsm;
    } catch (err) {
      if (!busUnavailable(err) || performance.now() >= deadline) throw err;
      log.warn({ err, attempt }, "JetStream did not answer at start; asking again");
      await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** attempt, 4_000)));
    }
  }
}

export async function natsReady(nc: NatsConnection): Promise<boolean> {
  if (nc.isClosed()) return false;
  try {
    await nc.flush();
    const jsm = await jetstreamManager(nc, { timeout: 2_000 });
    await jsm.getAccountInfo();
    return true;
  } catch {
    return false;
  }
}
