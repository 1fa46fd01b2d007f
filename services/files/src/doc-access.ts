import type { NatsConnection } from "@nats-io/transport-node";
import { AppError, rpc, type AccessResult, type Role } from "@palimpsest/contracts";
import { callRpcOk, canWrite } from "@palimpsest/platform";

/**
 * The caller's role on a document, asked of the docs service (which answers from memory).
 * Strangers, and everyone while the document is in the trash, get NOT_FOUND, as from the docs
 * routes: they learn nothing, not even that the document exists.
 */
export class DocAccess {
  constructor(private readonly nc: NatsConnection) {}

  lookup(docId: string, userId: string, requestId: string): Promise<AccessResult> {
    return callRpcOk<AccessResult>(this.nc, rpc.docs.access, { requestId, input: { docId, userId } }, 3_000);
  }

  async reader(docId: string, userId: string, requestId: string): Promise<Role> {
    const { role } = await this.lookup(docId, userId, requestId);
    if (!role) throw new AppError("NOT_FOUND", "document not found");
    return role;
  }

  /** Owners and editors attach and delete files; viewers and commenters only see them. */
  async writer(docId: string, userId: string, requestId: string): Promise<Role> {
    const role = await this.reader(docId, userId, requestId);
    if (!canWrite(role)) throw new AppError("FORBIDDEN", `a ${role} cannot attach or delete files`);
    return role;
  }
}
