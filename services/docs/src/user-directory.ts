import type { Kysely } from "kysely";
import type { NatsConnection } from "@nats-io/transport-node";
import { rpc, type UserView } from "@palimpsest/contracts";
import { callRpcOk } from "@palimpsest/platform";
import type { DocsDb } from "./schema.ts";

/**
 * The account behind an email, for sharing and adding members: the local mirror first, then the
 * auth service (the mirror may lag a registration), which is then mirrored here.
 */
export async function findUserByEmail(db: Kysely<DocsDb>, nc: NatsConnection, email: string, requestId: string): Promise<{ id: string } | undefined> {
  const local = await db.selectFrom("doc_users").select("id").where("email", "=", email).executeTakeFirst();
  if (local) return local;
  const remote = await callRpcOk<UserView | null>(nc, rpc.auth.lookup, { requestId, input: { email } });
  if (!remote) return undefined;
  await db.insertInto("doc_users").values({ id: remote.id, email: remote.email, name: remote.name }).onConflict((oc) => oc.doNothing()).execute();
  return { id: remote.id };
}
