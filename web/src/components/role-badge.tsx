import type { ReactNode } from "react";
import type { DocRole } from "../api/types";

const LABELS: Record<DocRole, string> = {
  owner: "Owner",
  editor: "Editor",
  commenter: "Commenter",
  viewer: "Viewer",
  auditor: "Auditor",
};

export function RoleBadge({ role }: { role: DocRole }): ReactNode {
  return (
    <span className={`badge badge-role badge-${role}`} data-role={role}>
      {LABELS[role]}
    </span>
  );
}
