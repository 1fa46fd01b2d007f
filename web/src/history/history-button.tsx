// The header button that opens the version history. The panel's code loads on first use and
// starts downloading as soon as the pointer or focus reaches the button.

import type { ReactNode } from "react";

export const loadHistoryPanel = () => import("./history-panel");

export function HistoryButton({ open, onToggle }: { open: boolean; onToggle: () => void }): ReactNode {
  const prefetch = (): void => {
    void loadHistoryPanel().catch(() => undefined);
  };
  return (
    <button
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
      History
    </button>
  );
}
