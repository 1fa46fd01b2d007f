/**
 * Names that the stored Yjs documents, the history service and the web app must spell alike:
 * history renders, diffs and restores exactly the shared types the editors write, and groups
 * edits the way the history panel does.
 */

/** The Yjs shared types a document keeps its content in. Other shared types are kept but opaque. */
export const DocFields = {
  /** Rich text: the Y.XmlFragment TipTap's collaboration extension edits. */
  richText: "default",
  /** Plain text: a Y.Text, as simple y-websocket clients write it. */
  plainText: "t",
  /** A board: a Y.Map of cards by id. */
  board: "board",
} as const;

/** Edits appended by a restore carry a client id with this prefix, so history can show them as restores. */
export const RESTORE_CLIENT_PREFIX = "restore:";

export function restoreClientId(unique: string): string {
  return `${RESTORE_CLIENT_PREFIX}${unique}`;
}

export function isRestoreClient(clientId: string | null | undefined): boolean {
  return String(clientId).startsWith(RESTORE_CLIENT_PREFIX);
}

/** The edit an import stores its content with carries a client id with this prefix. */
export const IMPORT_CLIENT_PREFIX = "import:";

export function importClientId(unique: string): string {
  return `${IMPORT_CLIENT_PREFIX}${unique}`;
}

/** One person's edits with no pause longer than this form one editing session. */
export const EDIT_SESSION_GAP_MS = 5 * 60 * 1000;
