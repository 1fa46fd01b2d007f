import { Type, type Static } from "@sinclair/typebox";
import { isValid, parseJson } from "./schema.ts";

/**
 * A notice on the `collab.control` subject: a service tells every gateway and sync replica
 * about something that must reach live /collab connections at once.
 */
export const SessionRevokedNotice = Type.Object({
  type: Type.Literal("session.revoked"),
  /** Every connection opened with a token of this session closes with `CloseCodes.unauthenticated`. */
  sessionId: Type.String({ minLength: 1 }),
});

export const CollabControlNotice = Type.Union([SessionRevokedNotice]);
export type CollabControlNotice = Static<typeof CollabControlNotice>;

export function encodeCollabControl(notice: CollabControlNotice): string {
  return JSON.stringify(notice);
}

/**
 * The notice in a `collab.control` message, or null for one this version does not know, so a
 * newer sender's notices are skipped rather than misread. Broken JSON throws MALFORMED_JSON.
 */
export function decodeCollabControl(text: string): CollabControlNotice | null {
  const value = parseJson(text, "control message");
  return isValid(CollabControlNotice, value) ? value : null;
}
