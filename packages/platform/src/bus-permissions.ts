import { Streams, rpc, subjects, type ServiceName, type StreamName } from "@palimpsest/contracts";

/**
 * Who may say what on NATS. The bus is not trusted: every service connects with its own user, and
 * the server lets it publish and subscribe only the subjects below. This is the one definition;
 * the local server's config, the test harness's and the Kubernetes `auth.conf` are rendered from it.
 *
 * The rules that matter most:
 * - only sync (typing) and history (restore, import) may append edits;
 * - only a service subscribes to its own `rpc.<service>.>`, so nobody else can answer for it
 *   (above all, nobody else can answer `rpc.auth.jwks` with keys of their own);
 * - internal queries (who has this email, a document's snapshot or head) are callable only by the
 *   services that need them, never by the gateway on a client's behalf;
 * - services may create a missing stream but never change or delete one: stream updates are the
 *   `admin` user's (`npm run setup-streams`), so a compromised service cannot shorten history;
 *   the one exception is history purging a purged document's subject from EDITS (erasure), and
 *   writing the tombstone that records it;
 * - a service answers requests by publishing into the inboxes of those who may call it, and of no
 *   one else. Not NATS's `allow_responses`: with it the server remembers the reply subject of every
 *   message a service receives, JetStream deliveries included (each has its own), and walks that
 *   whole list on every delivery once it passes a few thousand; measured on the edit path, that
 *   walk took three quarters of nats-server's CPU.
 */
export type BusUser = ServiceName | "admin";
export const BusUsers = ["gateway", "auth", "docs", "sync", "files", "history", "admin"] as const satisfies readonly BusUser[];

export interface BusPermission {
  publish: string[];
  subscribe: string[];
}

/** Each connection uses inboxes under its own prefix, so a service can subscribe to its replies and no one else's. */
export function inboxPrefixOf(user: BusUser): string {
  return `_INBOX_${user}`;
}

/** Calls only services and tools may make; the gateway never forwards a client to these. */
const internalRpc: readonly string[] = [rpc.auth.lookup, rpc.auth.resolveApiToken, rpc.history.head, rpc.history.snapshot, rpc.history.searchText];

function allRpcSubjects(): string[] {
  const out: string[] = [];
  for (const group of [rpc.auth, rpc.docs, rpc.history, rpc.files]) out.push(...Object.values(group));
  return out;
}

/** Creating a stream if it is missing and reading its state; never updating, purging or deleting it. */
function streamSetup(): string[] {
  return ["$JS.API.INFO", ...Object.values(Streams).flatMap((s) => [`$JS.API.STREAM.INFO.${s}`, `$JS.API.STREAM.CREATE.${s}`])];
}

/** Reading a stream: ordered and durable consumers, direct and API gets of single messages, acks. */
function streamReader(stream: StreamName): string[] {
  return [
    `$JS.API.CONSUMER.CREATE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.>`,
    `$JS.API.CONSUMER.DELETE.${stream}.>`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.>`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    `$JS.ACK.${stream}.>`,
  ];
}

/**
 * The sync service's storage-quota counters (a KV bucket of its own, services/sync/src/storage-quota.ts):
 * creating the bucket if it is missing, reading and compare-and-set writing its keys.
 */
function syncQuotaBucket(): string[] {
  const stream = "KV_SYNC_QUOTAS";
  return [
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.CREATE.${stream}`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    "$KV.SYNC_QUOTAS.>",
  ];
}

/** Whether some subject matches both patterns (`*` one token, `>` one or more at the end). */
export function subjectsOverlap(a: string, b: string): boolean {
  const x = a.split(".");
  const y = b.split(".");
  for (let i = 0; ; i++) {
    const p = x[i];
    const q = y[i];
    if (p === undefined || q === undefined) return p === q;
    if (p === ">" || q === ">") return true;
    if (p !== "*" && q !== "*" && p !== q) return false;
  }
}

interface UserSpec {
  publish: string[];
  /** Subjects it listens to: events and notices it reads. */
  subscribe: string[];
  /** Subjects it answers requests on: whoever may publish there may be answered. */
  serves: string[];
}

function user(publish: string[], subscribe: string[], serves: string[]): UserSpec {
  return { publish, subscribe, serves };
}

/** Adds each user's own inbox, and the inboxes of everyone who may send it a request, so it can answer them. */
function withReplies(specs: Record<BusUser, UserSpec>): Record<BusUser, BusPermission> {
  const callersOf = (self: BusUser) => BusUsers.filter((c) => specs[c].publish.some((p) => specs[self].serves.some((s) => subjectsOverlap(p, s))));
  return Object.fromEntries(
    BusUsers.map((u) => {
      const spec = specs[u];
      return [
        u,
        {
          publish: [...new Set([...spec.publish, ...callersOf(u).map((c) => `${inboxPrefixOf(c)}.>`)])],
          subscribe: [...new Set([...spec.subscribe, ...spec.serves, `${inboxPrefixOf(u)}.>`])],
        },
      ];
    }),
  ) as Record<BusUser, BusPermission>;
}

export function busPermissions(): Record<BusUser, BusPermission> {
  const ready = (s: ServiceName) => rpc.ready(s);
  const backend = (["auth", "docs", "sync", "files", "history"] as const).map(ready);
  return withReplies({
    gateway: user(
      [
        ...allRpcSubjects().filter((s) => !internalRpc.includes(s)),
        // Every service that is handed an API token asks auth whose it is.
        rpc.auth.resolveApiToken,
        ...backend,
        "$JS.API.INFO",
        subjects.replicaQuery("sync"),
        subjects.replicaQuery("files"),
      ],
      // Inbox changes: each signed-in page's live stream of its person's inbox.
      [subjects.collabControl(), subjects.allReplicaAnnouncements(), subjects.allInboxChanges()],
      [],
    ),
    auth: user(
      // Auth runs the mail sender: it reads and acks the outbox; it and docs queue mail.
      [subjects.allAuthEvents(), subjects.allMail(), subjects.collabControl(), ...streamSetup(), ...streamReader(Streams.auth), ...streamReader(Streams.mail)],
      [],
      ["rpc.auth.>"],
    ),
    docs: user(
      [
        subjects.allDocEvents(),
        subjects.allWorkspaceEvents(),
        subjects.allInboxes(),
        subjects.allInboxChanges(),
        subjects.allMail(),
        rpc.auth.lookup,
        rpc.auth.jwks,
        rpc.auth.resolveApiToken,
        rpc.history.head,
        // The search index: each edited document's newest text.
        rpc.history.searchText,
        ...streamSetup(),
        ...streamReader(Streams.docs),
        ...streamReader(Streams.auth),
        // The document list's last-edit times: each document's head, not every edit.
        ...streamReader(Streams.editHeads),
      ],
      [],
      ["rpc.docs.>"],
    ),
    sync: user(
      [
        subjects.allEdits(),
        "presence.>",
        "presence-query.>",
        subjects.replicaHeartbeat(),
        subjects.replicaAnnounce("sync"),
        rpc.history.snapshot,
        rpc.docs.access,
        rpc.auth.jwks,
        rpc.auth.resolveApiToken,
        ...streamSetup(),
        ...streamReader(Streams.edits),
        ...streamReader(Streams.docs),
        ...syncQuotaBucket(),
      ],
      // Presence queries and replica queries are answered by publishing, not by replying.
      ["presence.>", "presence-query.>", subjects.replicaHeartbeat(), subjects.collabControl(), subjects.replicaQuery("sync")],
      ["rpc.sync.>"],
    ),
    files: user(
      [
        subjects.allFileEvents(),
        subjects.replicaAnnounce("files"),
        rpc.docs.access,
        rpc.auth.jwks,
        rpc.auth.resolveApiToken,
        ...streamSetup(),
        ...streamReader(Streams.docs),
      ],
      [subjects.replicaQuery("files"), subjects.collabControl()],
      ["rpc.files.>"],
    ),
    history: user(
      [
        subjects.allEdits(),
        subjects.allErasures(),
        // Each document's newest edit, as its edit log takes it in (and an empty one on erasure);
        // read back to repair what a crash left behind.
        subjects.allEditHeads(),
        ...streamReader(Streams.editHeads),
        // Erasing a purged document's edits: the one purge any service may make.
        `$JS.API.STREAM.PURGE.${Streams.edits}`,
        rpc.docs.access,
        // Export and import, on the caller's behalf (with the caller's token): the title, the
        // comments, a new document and its threads, and its trashing when an import fails.
        rpc.docs.get,
        rpc.docs.comments,
        rpc.docs.create,
        rpc.docs.trash,
        rpc.docs.addComment,
        rpc.docs.reply,
        rpc.docs.updateComment,
        // A workspace's export: the caller's role in it, its members and its documents.
        rpc.docs.workspace,
        rpc.docs.workspaceMembers,
        rpc.docs.list,
        rpc.auth.jwks,
        rpc.auth.resolveApiToken,
        ...streamSetup(),
        ...streamReader(Streams.edits),
        ...streamReader(Streams.docs),
        // A workspace's audit trail holds its members' account, session and API-token events.
        ...streamReader(Streams.auth),
      ],
      [],
      ["rpc.history.>"],
    ),
    // Stream set-up, projection rebuilds, key rotation and operators' tools.
    admin: user([">"], [">"], []),
  });
}

/**
 * The `authorization` block of a nats.conf. `password` gives each user's password as it is to
 * appear in the file: a quoted literal for a local run, or `$NATS_PASSWORD_SYNC` to take it from
 * the server's environment (Kubernetes).
 */
export function renderNatsAuthorization(password: (user: BusUser) => string): string {
  const perms = busPermissions();
  const list = (items: string[]) => `[${items.map((s) => JSON.stringify(s)).join(", ")}]`;
  const users = BusUsers.map((u) => {
    const p = perms[u];
    return [
      "    {",
      `      user: ${JSON.stringify(u)}`,
      `      password: ${password(u)}`,
      "      permissions: {",
      `        publish: { allow: ${list(p.publish)} }`,
      `        subscribe: { allow: ${list(p.subscribe)} }`,
      "      }",
      "    }",
    ].join("\n");
  });
  return ["authorization {", "  users: [", users.join("\n"), "  ]", "}", ""].join("\n");
}

/** The environment variable a NATS server reads a user's password from, in `auth.conf` for Kubernetes. */
export function natsPasswordEnv(user: BusUser): string {
  return `NATS_PASSWORD_${user.toUpperCase()}`;
}

export const k8sAuthConfPath = "deploy/k8s/base/nats/auth.conf";

/** The Kubernetes `auth.conf`: every user's password from the server's environment. */
export function k8sAuthConf(): string {
  return [
    "# Generated from packages/platform/src/bus-permissions.ts by `npm run deploy:nats-auth`; do not edit.",
    "# Each password comes from the NATS pod's environment (Secret palimpsest-nats-credentials).",
    renderNatsAuthorization((u) => `$${natsPasswordEnv(u)}`),
  ].join("\n");
}
