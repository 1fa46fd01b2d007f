// The bar above the preview: play, the timeslider (named versions marked on it), the position,
// and whether and with what to show the changes.

import type { ReactNode } from "react";
import type { HistoryEvent, NamedVersion } from "../api/types";
import { exactTime } from "../lib/format";
import type { Compare } from "./compare";

interface HistoryTimesliderProps {
  sliderId: string;
  ticksId: string;
  playing: boolean;
  onTogglePlay: () => void;
  /** How many edits were loaded: fewer than two, nothing to play or slide through. */
  edits: number;
  first: number;
  head: number;
  /** The history could not be loaded: there is nothing to say about versions. */
  unavailable: boolean;
  seq: number;
  selectedEdit: HistoryEvent | undefined;
  named: NamedVersion[];
  onSelect: (seq: number) => void;
  showChanges: boolean;
  onShowChanges: (show: boolean) => void;
  compare: Compare;
  compareOptions: { value: Compare; label: string }[];
  onCompare: (compare: Compare) => void;
  /** Keeps the shown version as one side of the comparison. */
  onPin: () => void;
}

export function HistoryTimeslider(props: HistoryTimesliderProps): ReactNode {
  const { sliderId, ticksId, playing, onTogglePlay, edits, first, head, unavailable, seq, selectedEdit, named, onSelect } = props;
  const { showChanges, onShowChanges, compare, compareOptions, onCompare, onPin } = props;
  return (
    <div className="history-bar">
      <button
        type="button"
        className="icon-button history-play"
        aria-label={playing ? "Pause" : "Play the history"}
        title={playing ? "Pause" : "Play the document through its versions"}
        onClick={onTogglePlay}
        disabled={edits < 2}
      >
        {playing ? (
          <svg viewBox="0 0 20 20" aria-hidden="true">
            <path className="fill" d="M5.5 4h3v12h-3zM11.5 4h3v12h-3z" />
          </svg>
        ) : (
          <svg viewBox="0 0 20 20" aria-hidden="true">
            <path className="fill" d="M6 4v12l10-6z" />
          </svg>
        )}
      </button>
      <label htmlFor={sliderId} className="visually-hidden">
        Timeslider
      </label>
      <input
        id={sliderId}
        className="history-slider"
        type="range"
        min={first}
        max={head}
        step={1}
        value={seq}
        list={ticksId}
        disabled={edits < 2}
        aria-valuetext={`Version ${seq} of ${head}${selectedEdit ? `, ${exactTime(selectedEdit.at)}` : ""}`}
        onChange={(event) => onSelect(Number(event.target.value))}
      />
      <datalist id={ticksId}>
        {named.map((n) => (
          <option key={`${n.name}-${n.seq}`} value={n.seq} label={n.name} />
        ))}
      </datalist>
      <output className="history-position" htmlFor={sliderId} data-testid="history-position">
        {unavailable ? "History not loaded" : head === 0 ? "No versions yet" : `Version ${seq} of ${head}`}
      </output>
      <label className="history-toggle">
        <input type="checkbox" checked={showChanges} onChange={(event) => onShowChanges(event.target.checked)} disabled={head === 0} />
        Show changes
      </label>
      {showChanges && (
        <>
          <label className="history-compare">
            Compare with
            <select value={compare} onChange={(event) => onCompare(event.target.value as Compare)}>
              {compareOptions.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            className="button button-compact button-quiet"
            title="Keep this version as one side of the comparison, then pick the other on the timeslider"
            disabled={seq === 0}
            onClick={onPin}
          >
            Pin this version
          </button>
        </>
      )}
    </div>
  );
}
