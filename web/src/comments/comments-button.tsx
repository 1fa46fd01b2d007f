// The header button that shows or hides the comment threads, with how many are open.

import type { ReactNode } from "react";

export function CommentsButton({ open, count, onToggle }: { open: boolean; count: number; onToggle: () => void }): ReactNode {
  return (
    <button
      type="button"
      className={`button button-compact${open ? " button-pressed" : ""}`}
      aria-pressed={open}
      onClick={onToggle}
      title={open ? "Hide the comments" : "Show the comments, and comment on the text"}
      data-testid="comments-button"
    >
      <svg className="button-icon" viewBox="0 0 20 20" aria-hidden="true">
        <path d="M4 4.5h12a1 1 0 0 1 1 1v7a1 1 0 0 1-1 1H9l-3.5 3v-3H4a1 1 0 0 1-1-1v-7a1 1 0 0 1 1-1Z" />
      </svg>
      <span className="button-label">Comments</span>
      {count > 0 && (
        <span className="comments-count">
          {count}
          <span className="visually-hidden"> open</span>
        </span>
      )}
    </button>
  );
}
