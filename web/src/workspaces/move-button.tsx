// "Move" in an open document's header, for those who manage it (its owner, or a workspace's
// owner or admin through it): the same dialog as on the dashboard's rows.

import { lazy, Suspense, useEffect, useState } from "react";
import type { ReactNode } from "react";
import { useNavigate } from "react-router-dom";
import { can } from "@palimpsest/contracts/shared";
import { api } from "../api/api-client";
import type { DocMeta, DocSummary, Workspace } from "../api/types";
import { ErrorBoundary } from "../components/error-boundary";

const MoveDialog = lazy(() => import("./move-dialog"));

export function MoveButton({ doc, onMoved }: { doc: DocMeta; onMoved: (message: string) => void }): ReactNode {
  const [open, setOpen] = useState(false);
  const navigate = useNavigate();
  if (!can(doc.role, "trash")) return null;
  return (
    <>
      <button type="button" className="button button-quiet" aria-haspopup="dialog" title="Move to another workspace" onClick={() => setOpen(true)}>
        Move
      </button>
      {open && (
        <MoveDialogLoader
          docId={doc.id}
          onClose={() => setOpen(false)}
          // Moved out of the workspace that let me in: the document is no longer mine to show.
          onMoved={(to, moved) => (moved ? onMoved(`Moved to ${to?.name ?? "its owner's documents"}.`) : navigate("/", { replace: true }))}
        />
      )}
    </>
  );
}

/** Reads where the document is now and my workspaces once the dialog is wanted, then shows it. */
function MoveDialogLoader({ docId, onClose, onMoved }: { docId: string; onClose: () => void; onMoved: (to: Workspace | null, moved: DocSummary | null) => void }): ReactNode {
  const [loaded, setLoaded] = useState<{ doc: DocSummary; workspaces: Workspace[] } | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    Promise.all([api.docs.get(docId, controller.signal), api.workspaces.list(controller.signal)]).then(
      ([doc, page]) => setLoaded({ doc, workspaces: page.items }),
      () => {
        if (!controller.signal.aborted) onClose();
      },
    );
    return () => controller.abort();
  }, [docId, onClose]);
  if (!loaded) return null;
  return (
    <ErrorBoundary
      fallback={() => (
        <p className="floating-alert" role="alert">
          This dialog could not be downloaded. Reload the page to try again.{" "}
          <button type="button" className="link-button" onClick={onClose}>
            Dismiss
          </button>
        </p>
      )}
    >
      <Suspense fallback={null}>
        <MoveDialog doc={loaded.doc} workspaces={loaded.workspaces} onClose={onClose} onMoved={(_doc, to, moved) => onMoved(to, moved)} />
      </Suspense>
    </ErrorBoundary>
  );
}
