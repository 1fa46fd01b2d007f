// The header's Share button. The dialog itself is loaded on first use: most visits never open it.

import { lazy, Suspense, useState } from "react";
import type { ReactNode } from "react";
import type { DocMeta } from "../api/types";
import { ErrorBoundary } from "../components/error-boundary";

const loadDialog = () => import("./share-dialog");
const ShareDialog = lazy(loadDialog);

interface ShareButtonProps {
  doc: DocMeta;
  /** Called after this window changed who has access (to tell the other windows). */
  onAccessChanged?: () => void;
}

export function ShareButton({ doc, onAccessChanged }: ShareButtonProps): ReactNode {
  const [open, setOpen] = useState(false);
  // Start downloading when the pointer or focus arrives, so the dialog opens without a wait.
  const prefetch = (): void => {
    void loadDialog().catch(() => undefined);
  };
  return (
    <>
      <button
        type="button"
        className="button button-primary button-compact"
        aria-haspopup="dialog"
        onPointerEnter={prefetch}
        onFocus={prefetch}
        onClick={() => setOpen(true)}
        title="Share this document"
      >
        <svg className="button-icon" viewBox="0 0 20 20" aria-hidden="true">
          <circle cx="7.5" cy="7" r="3" />
          <path d="M2.5 16.5c.6-2.8 2.6-4.3 5-4.3s4.4 1.5 5 4.3M14 5.5v5M11.5 8h5" />
        </svg>
        <span className="button-label">Share</span>
      </button>
      {open && (
        <ErrorBoundary
          fallback={() => (
            <p className="floating-alert" role="alert">
              The share dialog could not be downloaded. Reload the page to try again.{" "}
              <button type="button" className="link-button" onClick={() => setOpen(false)}>
                Dismiss
              </button>
            </p>
          )}
        >
          <Suspense fallback={null}>
            <ShareDialog doc={doc} onClose={() => setOpen(false)} onAccessChanged={onAccessChanged} />
          </Suspense>
        </ErrorBoundary>
      )}
    </>
  );
}
