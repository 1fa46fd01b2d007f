// What a closed /collab connection means for the next one: renew the token, wait and retry, or
// stop for good with a problem to show. The close code decides; the reason the server gave in its
// auth message (if any) explains it.

import { CloseCodes, isRefusalClose } from "@palimpsest/contracts/shared";
import type { CollabProblem } from "./collab-state.ts";

export const RATE_LIMIT_RETRY_MS = 5_000;

export type CloseDecision =
  | { action: "refresh-token" }
  | { action: "retry"; delayMs: number }
  | { action: "stop"; problem: CollabProblem };

/**
 * Whether y-websocket should connect again after the server closed: not after a refusal (4400-4499),
 * and not after a message too big (1009), which sending again would only repeat: the client's
 * changes since it was last online are more than the server takes at once.
 */
export function shouldReconnect(code: number): boolean {
  return !isRefusalClose(code) && code !== CloseCodes.messageTooBig;
}

/** After y-websocket gave up on a connection (its "closed" event). */
export function decideAfterClose(code: number, reason: string, deniedReason: string | null): CloseDecision {
  switch (code) {
    case CloseCodes.unauthenticated:
      return { action: "refresh-token" };
    case CloseCodes.forbidden:
      return { action: "stop", problem: { kind: "no-access", message: "You don't have access to this document any more." } };
    case CloseCodes.notFound:
      return { action: "stop", problem: { kind: "not-found", message: "This document doesn't exist or has been deleted." } };
    case CloseCodes.rateLimited:
      return { action: "retry", delayMs: RATE_LIMIT_RETRY_MS };
    case CloseCodes.messageTooBig:
      return {
        action: "stop",
        problem: {
          kind: "rejected",
          message: "Your changes are too large to save in one go, so they are not saved. They are still here on this device: copy what you need before you reload the page.",
        },
      };
    default:
      return { action: "stop", problem: { kind: "rejected", message: refusalMessage(code, reason, deniedReason) } };
  }
}

/**
 * A server that denied us but closed with a generic code would otherwise be retried forever;
 * such a close is treated like an explicit "no access". A read-only refusal on an open
 * connection is about our edits, not the connection, so it does not count.
 */
export function silentDenial(code: number, deniedReason: string | null, writesRefused: boolean): CollabProblem | null {
  if (isRefusalClose(code) || deniedReason === null || writesRefused) return null;
  return { kind: "no-access", message: `You don't have access to this document. (${deniedReason})` };
}

/**
 * The server explains a refusal in the auth message it sends before closing; the close
 * reason itself is only the error code (say "VALIDATION_FAILED"), not for people.
 */
export function refusalMessage(code: number, reason: string, deniedReason: string | null): string {
  const detail = deniedReason ?? (reason !== "" && !/^[A-Z][A-Z0-9_]*$/.test(reason) ? reason : null);
  return detail
    ? `The server refused to open this document: ${detail}`
    : `The server closed the connection (code ${code}). Reload the page to try again.`;
}
