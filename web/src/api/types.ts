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

// The shapes the history and files services answer with, defined once in the contracts package.
export type { DiffSegment, DiffView, FileView, NamedVersion, RestoreResult, ThumbnailState, VersionView } from "@palimpsest/contracts";

/** Roles that may change a document's content; the server enforces this too. */
export function canEdit(role: DocRole): boolean {
  return role === "owner" || role === "editor";
}
