// The form that names the selected version.

import type { ReactNode } from "react";
import type { VersionActions } from "./use-version-actions";

export function NameVersionForm({ inputId, seq, actions }: { inputId: string; seq: number; actions: VersionActions }): ReactNode {
  const { working } = actions;
  return (
    <form className="history-name-form" onSubmit={(event) => void actions.submitName(event, seq)}>
      <label className="visually-hidden" htmlFor={inputId}>
        Version name
      </label>
      <input
        ref={actions.nameInputRef}
        id={inputId}
        type="text"
        maxLength={100}
        placeholder="e.g. First draft"
        value={actions.nameDraft}
        onChange={(event) => actions.setNameDraft(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Escape") {
            event.preventDefault();
            actions.cancelNaming();
          }
        }}
        disabled={working}
      />
      <button type="submit" className="button button-compact button-primary" disabled={working}>
        Save name
      </button>
      <button type="button" className="button button-compact button-quiet" onClick={actions.cancelNaming}>
        Cancel
      </button>
    </form>
  );
}
