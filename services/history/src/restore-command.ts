import type { Kysely } from "kysely";
import type { Caller } from "@palimpsest/contracts";
import { randomUUID } from "node:crypto";
import type { JetStreamClient } from "@nats-io/jetstream";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import {
  AppError,
  RestoreInput,
  Streams,
  canWrite,
  editMessageId,
  parse,
  restoreClientId,
  subjects,
  writeEditHeaders,
  type RestoreResult,
} from "@palimpsest/contracts";
import { publishDurably, requireCaller, requireDocRole, type RpcContext, type RpcResult } from "@palimpsest/platform";
import * as Y from "yjs";
import { documentAt, headSeq } from "./document-state.ts";
import { readEdits } from "./edit-reader.ts";
import { restoreUpdate } from "./restore.ts";
import type { HistoryDb } from "./schema.ts";
import type { SnapshotStore } from "./snapshot-store.ts";

/** `rpc.history.restore`: history's one command; every other history RPC only reads. */
export function createRestoreCommand(db: Kysely<HistoryDb>, nc: NatsConnection, js: JetStreamClient, snapshots: SnapshotStore) {
  const requireAccess = (docId: string, caller: Caller, requestId: string) => requireDocRole(nc, { docId, userId: caller.userId, scopes: caller.token?.scopes, requestId });

  return {
    /**
     * Makes the document equal version `seq` again by appending one edit, attributed to the
     * restoring user, through the edit stream every replica follows: collaborators see it live,
     * and every earlier version stays in the history.
     */
    async restore(input: unknown, ctx: RpcContext): Promise<RpcResult> {
      const caller = requireCaller(ctx);
      const q = parse(RestoreInput, input, "request");
      const role = await requireAccess(q.id, caller, ctx.requestId);
      if (!canWrite(role)) throw new AppError("FORBIDDEN", `a ${role} cannot restore versions`);
      const head = await headSeq(db, q.id);
      if (q.seq > head) throw new AppError("NOT_FOUND", `version ${q.seq} does not exist`);
      // The edit log may lag the stream by a flush or more: what was stored after its head (and
      // shown to everyone) is read from the stream, so the restore undoes it too. What is stored
      // after this point was typed while restoring, and stays.
      const [current, target, storedUpTo] = await Promise.all([
        documentAt(db, js, snapshots, q.id, head),
        documentAt(db, js, snapshots, q.id, q.seq),
        js.jetstreamManager(false).then((jsm) => jsm.streams.getMessage(Streams.edits, { last_by_subj: subjects.edits(q.id) })).then((m) => m?.seq ?? 0),
      ]);
      try {
        for await (const e of readEdits(js, q.id, current.streamSeq + 1, storedUpTo)) Y.applyUpdate(current.doc, e.update);
        const update = restoreUpdate(current.doc, target.doc);
        if (!update) return { body: { restoredFrom: q.seq, streamSeq: current.streamSeq, changed: false } satisfies RestoreResult };
        const h = natsHeaders();
        writeEditHeaders(h, {
          author: caller.userId,
          client: restoreClientId(randomUUID()),
          replica: "history",
          ...(caller.token ? { via: { tokenId: caller.token.id, name: caller.token.name } } : {}),
        });
        const ack = await publishDurably(js, subjects.edits(q.id), update, { msgID: editMessageId(q.id, update), headers: h });
        return { body: { restoredFrom: q.seq, streamSeq: ack.seq, changed: true } satisfies RestoreResult };
      } finally {
        current.doc.destroy();
        target.doc.destroy();
      }
    },
  };
}
