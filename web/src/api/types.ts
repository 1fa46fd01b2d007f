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
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface HistoryEvent {
  seq: number;
  at: string;
  userId: string;
  clientId: number | string;
  size: number;
}

/** Roles that may change a document's content; the server enforces this too. */
export function canEdit(role: DocRole): boolean {
  return role === "owner" || role === "editor";
}
