import type { ReactNode } from "react";
import type { CollabStatus } from "../collab/collab-provider";

const DESCRIPTIONS: Record<CollabStatus, string> = {
  connecting: "Connecting to the server…",
  online: "Connected; sending your latest changes",
  saved: "All changes are saved on the server",
  offline: "Not connected; changes will be sent when the connection returns",
};

/** The text is exactly the status word so it is easy to read and to assert on. */
export function StatusPill({ status }: { status: CollabStatus }): ReactNode {
  return (
    <span className={`status-pill status-${status}`} data-testid="status" data-status={status} title={DESCRIPTIONS[status]}>
      <span className="status-dot" aria-hidden="true" />
      <span className="status-label">{status}</span>
    </span>
  );
}
