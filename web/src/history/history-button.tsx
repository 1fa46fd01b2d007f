// The header button that opens the version history, and the panel behind it. The panel's code
// loads on first use and starts downloading as soon as the pointer or focus reaches the button.

import { lazy, Suspense, useEffect, useRef } from "react";
import type { ReactNode } from "react";
import { ErrorBoundary } from "../components/error-boundary";
import type { HistoryPanelProps } from "./history-panel";

export const loadHistoryPanel = () => import("./history-panel");

const HistoryPanel = lazy(loadHistoryPanel);

/** The history panel, its code downloaded on first use; a download that fails says so instead of the page failing. */
export function LazyHistoryPanel(props: HistoryPanelProps): ReactNode {
  return (
    <ErrorBoundary
      fallback={() => (
        <p className="banner banner-error" role="alert">
          The history could not be downloaded. Reload the page to try again.
        </p>
      )}
    >
      <Suspense fallback={<p className="centered-message muted">Loading the history…</p>}>
        <HistoryPanel {...props} />
      </Suspense>
    </ErrorBoundary>
  );
}

export function HistoryButton({ open, onToggle }: { open: boolean; onToggle: () => void }): ReactNode {
  const button = useRef<HTMLButtonElement>(null);
  const wasOpen = useRef(open);
  // The panel closed (Escape, a restore) and took the focus with it: it comes back here, where
  // it was before, instead of falling to the page.
  useEffect(() => {
    const active = document.activeElement;
    if (wasOpen.current && !open && (active === null || active === document.body)) button.current?.focus();
    wasOpen.current = open;
  }, [open]);
  const prefetch = (): void => {
    void loadHistoryPanel().catch(() => undefined);
  };
  return (
    <button
      ref={button}
      type="button"
      className={`button button-compact${open ? " button-pressed" : ""}`}
      aria-pressed={open}
      onPointerEnter={prefetch}
      onFocus={prefetch}
      onClick={onToggle}
      title={open ? "Back to the document" : "See earlier versions, who changed what, and restore"}
    >
      <svg className="button-icon" viewBox="0 0 20 20" aria-hidden="true">
        <path d="M3.5 10a6.5 6.5 0 1 0 1.9-4.6M3.5 3.5v3.2h3.2M10 6.5V10l2.5 2" />
      </svg>
      <span className="button-label">History</span>
    </button>
  );
}
