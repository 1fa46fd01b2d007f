// Shapes of the public REST contract (see DESIGN.md in the shared design notes). Kept local to the
// web app so the browser bundle never pulls in server-side packages.

export interface User {
  id: string;
  email: string;
  name: string;
}

export interface AuthResponse {
  user: User;
  accessToken: string;
  refreshToken: string;
}

export type DocKind = "text" | "board";

export type DocRole = "owner" | "editor" | "commenter" | "viewer";

export interface DocSummary {
  id: string;
  title: string;
  kind: DocKind;
  role: DocRole;
  ownerId: string;
  createdAt: string;
  updatedAt: string;
  /** In its owner's trash (listed with `trashed=true`); absent in older answers. */
  trashed?: boolean;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface HistoryEvent {
  /** The document's version after this edit: 1 for its first edit. */
  seq: number;
  at: string;
  userId: string;
  /** `restore:<id>` for the edit a restore made. */
  clientId: number | string;
  size: number;
}

export interface Member {
  userId: string;
  email: string;
  name: string;
  role: DocRole;
}

export interface Invitation {
  email: string;
  role: DocRole;
}

export interface Members {
  members: Member[];
  invitations: Invitation[];
}

/** The document as it was after edit `seq`. */
export interface VersionView {
  seq: number;
  at: string | null;
  userId: string | null;
  text: string;
  markdown: string;
  /** The whole Yjs state at this version, base64. */
  state: string;
}

export interface NamedVersion {
  name: string;
  seq: number;
  namedBy: string;
  namedAt: string;
}

/** A run of text between two versions: unchanged, or inserted / deleted by an author. */
export interface DiffSegment {
  kind: "same" | "insert" | "delete";
  text: string;
  userId?: string;
}

export interface DiffView {
  from: number;
  to: number;
  segments: DiffSegment[];
  authors: string[];
}

export interface RestoreResult {
  restoredFrom: number;
  streamSeq: number;
  /** False when the document already equalled that version. */
  changed: boolean;
}

/** Roles that may change a document's content; the server enforces this too. */
export function canEdit(role: DocRole): boolean {
  return role === "owner" || role === "editor";
}
