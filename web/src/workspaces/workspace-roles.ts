// Names of workspace roles as people read them, and what each lets someone do, for the
// switcher, the settings dialog and the move dialog. The server decides every permission again.

import { canInWorkspace, WorkspaceRoles } from "@palimpsest/contracts/shared";
import type { Workspace, WorkspaceRole } from "../api/types";

export const WORKSPACE_ROLE_LABELS: Record<WorkspaceRole, string> = {
  owner: "Owner",
  admin: "Admin",
  member: "Member",
  guest: "Guest",
  auditor: "Auditor",
};

/** What each role gives, said once under the add form. */
export const WORKSPACE_ROLE_HINTS: Record<WorkspaceRole, string> = {
  owner: "manages the workspace, its members and all its documents, and may delete it",
  admin: "manages members and all documents",
  member: "edits every document and adds new ones",
  guest: "sees only documents shared with them one by one",
  auditor: "reads every document and its history, changes nothing",
};

/** Roles in the order of the role menus, the most able first. */
export const WORKSPACE_ROLES: readonly WorkspaceRole[] = WorkspaceRoles;

/** "an admin", "a member". */
export function withArticle(role: WorkspaceRole): string {
  const label = WORKSPACE_ROLE_LABELS[role].toLowerCase();
  return /^[aeiou]/.test(label) ? `an ${label}` : `a ${label}`;
}

/** Owners, admins and members make documents in a workspace and move theirs into it. */
export function mayAddDocuments(workspace: Pick<Workspace, "role">): boolean {
  return canInWorkspace(workspace.role, "createDocuments");
}
