import type { NatsConnection } from "@nats-io/transport-node";
import { AppError, canWrite, type AccessResult, type Role } from "@palimpsest/contracts";
import { lookupDocAccess, requireDocRole } from "@palimpsest/platform";

const ACCESS_TIMEOUT_MS = 3_000;

/**
 * The caller's role on a document, asked of the docs service (which answers from memory).
 * Strangers, and everyone while the document is in the trash, get NOT_FOUND, as from the docs
 * routes: they learn nothing, not even that the document exists.
 */
export class DocAccess {
  constructor(private readonly nc: NatsConnection) {}

  lookup(docId: string, userId: string, requestId: string): Promise<AccessResult> {
    return lookupDocAccess(this.nc, { docId, userId, requestId, timeoutMs: ACCESS_TIMEOUT_MS });
  }

  reader(docId: string, userId: string, requestId: string): Promise<Role> {
    return requireDocRole(this.nc, { docId, userId, requestId, timeoutMs: ACCESS_TIMEOUT_MS });
  }

  /** Owners and editors attach and delete files; viewers and commenters only see them. */
  async writer(docId: string, userId: string, requestId: string): Promise<Role> {
    const role = await this.reader(docId, userId, requestId);
    if (!canWrite(role)) throw new AppError("FORBIDDEN", `a ${role} cannot attach or delete files`);
    return role;
  }
}
