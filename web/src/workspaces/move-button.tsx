// Where a document lives, in its share dialog, with "Move to another workspace…" for those who
// manage it (its owner, or a workspace's owner or admin through it): the dashboard rows' dialog.

import { lazy, Suspense, useCallback, useEffect, useState } from "react";
import type { ReactNode } from "react";
import { useNavigate } from "react-router-dom";
import { can } from "@palimpsest/contracts/shared";
import { api } from "../api/api-client";
import type { DocMeta, DocSummary, Workspace } from "../api/types";
import { ErrorBoundary } from "../components/error-boundary";

const MoveDialog = lazy(() => import("./move-dialog"));

/**
 * Where the document lives and, for those who manage it, a way to move it: in the share dialog,
 * since a move changes who reaches it through a workspace.
 */
export function PlaceSection({ doc, workspaceName, onMoved }: { doc: DocMeta; workspaceName: string | null; onMoved: (message: string) => void }): ReactNode {
  const [open, setOpen] = useState(false);
  const navigate = useNavigate();
  const close = useCallback(() => setOpen(false), []);
  // The workspace is named to those in it (the member list says which); who may move it sees the choices.
  if (!workspaceName && !can(doc.role, "trash")) return null;
  return (
    <section aria-label="Where it is">
      <h3 className="share-section-title">Where it is</h3>
      <p className="share-note">
        {workspaceName ? `In the workspace ${workspaceName}.` : ""}{" "}
        {can(doc.role, "trash") && (
          <button type="button" className="link-button" aria-haspopup="dialog" onClick={() => setOpen(true)}>
            Move to another workspace…
          </button>
        )}
      </p>
      {open && (
        <MoveDialogLoader
          docId={doc.id}
          onClose={close}
          // Moved out of the workspace that let me in: the document is no longer mine to show.
          onMoved={(to, moved) => (moved ? onMoved(`Moved to ${to?.name ?? "its owner's documents"}.`) : navigate("/", { replace: true }))}
        />
      )}
    </section>
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
