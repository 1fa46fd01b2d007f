// Asks before restoring the selected version, which everyone editing sees at once.

import type { ReactNode } from "react";
import type { VersionActions } from "./use-version-actions";

export function RestoreConfirm({ onRestore, actions }: { onRestore: () => void; actions: VersionActions }): ReactNode {
  const { working } = actions;
  return (
    <div className="history-confirm" role="group" aria-label="Confirm restore">
      <p>
        Restore the document to this version? Everyone editing sees it at once. Nothing is lost: the current version stays in
        the history.
      </p>
      <div className="history-actions">
        <button type="button" className="button button-compact button-primary" disabled={working} onClick={onRestore}>
          {working ? "Restoring…" : "Restore"}
        </button>
        <button type="button" className="button button-compact button-quiet" disabled={working} onClick={actions.cancelRestore}>
          Cancel
        </button>
      </div>
    </div>
  );
}
