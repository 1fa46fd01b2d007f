// The selected version: its title (its name, "Current version" or its time), who wrote it and
// when, and for those who may edit, naming it and restoring it.

import type { ReactNode } from "react";
import type { HistoryEvent } from "../api/types";
import { exactTime, timeAgo } from "../lib/format";
import { NameVersionForm } from "./name-version-form";
import { RestoreConfirm } from "./restore-confirm";
import type { People } from "./use-history";
import type { VersionActions } from "./use-version-actions";

interface SelectedVersionProps {
  title: string;
  seq: number;
  isHead: boolean;
  selectedEdit: HistoryEvent | undefined;
  people: People;
  mayEdit: boolean;
  /** The id of the name field. */
  nameInputId: string;
  actions: VersionActions;
}

export function SelectedVersion({ title, seq, isHead, selectedEdit, people, mayEdit, nameInputId, actions }: SelectedVersionProps): ReactNode {
  const { naming, confirmRestore, working } = actions;
  return (
    <div className="history-selected" data-testid="history-selected">
      <p className="history-selected-title">{title}</p>
      <p className="muted history-selected-meta">
        Version {seq}
        {selectedEdit && (
          <>
            {" · "}
            <span className="history-dot" style={{ backgroundColor: people.colorOf(selectedEdit.userId) }} aria-hidden="true" />{" "}
            {people.nameOf(selectedEdit.userId)} · <span title={exactTime(selectedEdit.at)}>{timeAgo(selectedEdit.at)}</span>
          </>
        )}
      </p>
      {mayEdit && !naming && !confirmRestore && (
        <div className="history-actions">
          <button type="button" className="button button-compact" onClick={actions.startNaming}>
            Name this version
          </button>
          <button
            type="button"
            className="button button-compact button-primary"
            disabled={isHead || working}
            title={isHead ? "This is already the current version" : "Make the document equal this version again"}
            onClick={actions.startRestore}
          >
            Restore this version
          </button>
        </div>
      )}
      {naming && <NameVersionForm inputId={nameInputId} seq={seq} actions={actions} />}
      {confirmRestore && <RestoreConfirm onRestore={() => void actions.restore(seq, selectedEdit?.at ?? null)} actions={actions} />}
      <p className="form-alert" role="alert">
        {actions.actionError}
      </p>
      <p className="history-notice" role="status">
        {actions.notice}
      </p>
    </div>
  );
}
