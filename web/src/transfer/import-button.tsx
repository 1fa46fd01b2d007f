// "Import" on the dashboard: a Markdown, HTML or archive file becomes a new document of mine
// (in the workspace the dashboard shows, if any), which then opens.

import { useRef, useState } from "react";
import type { ReactNode } from "react";
import { useNavigate } from "react-router-dom";
import { ApiError } from "../api/http";
import { documentPath } from "../lib/paths";
import { IMPORT_ACCEPT, importFile } from "./doc-transfer";

interface ImportButtonProps {
  /** The workspace the new document goes to; my own documents when null. */
  workspaceId?: string | null;
  onError: (message: string | null) => void;
}

export function ImportButton({ workspaceId = null, onError }: ImportButtonProps): ReactNode {
  const navigate = useNavigate();
  const input = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);

  const chosen = async (file: File | undefined): Promise<void> => {
    if (!file) return;
    setBusy(true);
    onError(null);
    try {
      navigate(documentPath(await importFile(file, workspaceId)));
    } catch (err) {
      onError(err instanceof ApiError ? err.message : "Could not import the file.");
      setBusy(false);
    } finally {
      if (input.current) input.current.value = "";
    }
  };

  return (
    <>
      <input ref={input} type="file" accept={IMPORT_ACCEPT} hidden onChange={(event) => void chosen(event.target.files?.[0])} data-testid="import-file" />
      <button type="button" className="button" disabled={busy} onClick={() => input.current?.click()} title="A new document from a Markdown, HTML or archive (.json) file">
        {busy ? "Importing…" : "Import"}
      </button>
    </>
  );
}
