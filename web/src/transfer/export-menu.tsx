// The header's "Export" menu: the document as Markdown, as an HTML page, or as an archive that
// imports back whole (its title, comments and full content).

import { useEffect, useId, useRef, useState } from "react";
import type { ReactNode } from "react";
import type { TransferFormat } from "@palimpsest/contracts/shared";
import { ApiError } from "../api/http";
import { downloadExport } from "./doc-transfer";
import "./transfer.css";

const CHOICES: { format: TransferFormat; label: string; hint: string }[] = [
  { format: "md", label: "Markdown", hint: "Text with headings, lists and links (.md)" },
  { format: "html", label: "HTML", hint: "A web page (.html)" },
  { format: "archive", label: "Archive", hint: "Everything, with comments, to import again (.json)" },
];

export function ExportMenu({ docId }: { docId: string }): ReactNode {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const menuId = useId();
  const root = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const close = (event: Event): void => {
      if (event instanceof KeyboardEvent ? event.key === "Escape" : !root.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener("pointerdown", close);
    document.addEventListener("keydown", close);
    return () => {
      document.removeEventListener("pointerdown", close);
      document.removeEventListener("keydown", close);
    };
  }, [open]);

  const run = async (format: TransferFormat): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await downloadExport(docId, format);
      setOpen(false);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : "Could not export the document.");
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="export-menu" ref={root}>
      <button
        type="button"
        className={`button button-compact${open ? " button-pressed" : ""}`}
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        onClick={() => setOpen(!open)}
        title="Download this document as a file"
        data-testid="export-button"
      >
        <svg className="button-icon" viewBox="0 0 20 20" aria-hidden="true">
          <path d="M10 3v9m-3.5-3.5L10 12l3.5-3.5M4 14.5v2h12v-2" />
        </svg>
        <span className="button-label">Export</span>
      </button>
      {open && (
        <div className="export-menu-list" id={menuId} role="menu" aria-label="Export as">
          {CHOICES.map((c) => (
            <button key={c.format} type="button" role="menuitem" className="export-menu-item" disabled={busy} onClick={() => void run(c.format)} data-testid={`export-${c.format}`}>
              <span>{c.label}</span>
              <span className="muted">{c.hint}</span>
            </button>
          ))}
          {error && (
            <p className="export-menu-error" role="alert">
              {error}
            </p>
          )}
        </div>
      )}
    </div>
  );
}
