import type { NatsConnection } from "@nats-io/transport-node";
import { AppError, canWrite, type AccessResult, type Caller, type Role } from "@palimpsest/contracts";
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

  /** The role `who` acts with: through an API token, capped by its scopes. */
  reader(docId: string, who: Pick<Caller, "userId" | "token">, requestId: string): Promise<Role> {
    return requireDocRole(this.nc, { docId, userId: who.userId, scopes: who.token?.scopes, requestId, timeoutMs: ACCESS_TIMEOUT_MS });
  }

  /** Owners and editors attach and delete files; viewers and commenters only see them. */
  async writer(docId: string, who: Pick<Caller, "userId" | "token">, requestId: string): Promise<Role> {
    const role = await this.reader(docId, who, requestId);
    if (!canWrite(role)) throw new AppError("FORBIDDEN", `a ${role} cannot attach or delete files`);
    return role;
  }
}
