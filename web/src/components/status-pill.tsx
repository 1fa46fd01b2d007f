import type { ReactNode } from "react";
import type { CollabStatus } from "../collab/collab-provider";

const DESCRIPTIONS: Record<CollabStatus, string> = {
  connecting: "Connecting to the server…",
  syncing: "Sending your latest changes to the server…",
  online: "Connected and up to date",
  saved: "All your changes are saved on the server",
  offline: "Not connected; your changes are kept on this device and sent when the connection returns",
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
