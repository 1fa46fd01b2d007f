// The workspaces I belong to, for the dashboard's switcher, its settings and the move dialog.

import { useCallback, useEffect, useState } from "react";
import { api } from "../api/api-client";
import { ApiError, isAbortError } from "../api/http";
import type { Workspace } from "../api/types";

export interface WorkspacesState {
  /** Null until the first answer. */
  items: Workspace[] | null;
  error: string | null;
  /** Asks the server again (after a change made here). */
  reload: () => void;
  /** Shows a workspace made or changed here at once, before the server is asked again. */
  put: (workspace: Workspace) => void;
}

const byName = (a: Workspace, b: Workspace): number => a.name.localeCompare(b.name);

export function useWorkspaces(): WorkspacesState {
  const [items, setItems] = useState<Workspace[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    api.workspaces.list(controller.signal).then(
      (page) => {
        setItems([...page.items].sort(byName));
        setError(null);
      },
      (err: unknown) => {
        if (isAbortError(err)) return;
        setItems((current) => current ?? []);
        setError(err instanceof ApiError ? err.message : "Could not load your workspaces.");
      },
    );
    return () => controller.abort();
  }, [attempt]);

  const reload = useCallback(() => setAttempt((n) => n + 1), []);

  // Someone may have added me to a workspace (or removed me) while this page was in the background.
  useEffect(() => {
    const again = (): void => {
      if (document.visibilityState === "visible") reload();
    };
    document.addEventListener("visibilitychange", again);
    return () => document.removeEventListener("visibilitychange", again);
  }, [reload]);
  const put = useCallback((workspace: Workspace) => {
    setItems((current) => [...(current ?? []).filter((w) => w.id !== workspace.id), workspace].sort(byName));
  }, []);
  return { items, error, reload, put };
}
