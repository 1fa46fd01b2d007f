// The header button that opens the version history. The panel's code loads on first use and
// starts downloading as soon as the pointer or focus reaches the button.

import { useEffect, useRef } from "react";
import type { ReactNode } from "react";

export const loadHistoryPanel = () => import("./history-panel");

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
