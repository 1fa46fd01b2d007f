// Loads a document's metadata (title, kind, my role) for the document screens.

import { useEffect, useState } from "react";
import { api } from "../api/api-client";
import { ApiError, isAbortError } from "../api/http";
import type { DocSummary } from "../api/types";

export type DocumentLoad =
  | { state: "loading" }
  | { state: "ready"; doc: DocSummary }
  | { state: "error"; status: number; message: string };

export function useDocument(id: string | undefined): DocumentLoad {
  const [load, setLoad] = useState<DocumentLoad>({ state: "loading" });

  useEffect(() => {
    if (!id) {
      setLoad({ state: "error", status: 404, message: "No document id in the address." });
      return;
    }
    const controller = new AbortController();
    setLoad({ state: "loading" });
    api.docs
      .get(id, controller.signal)
      .then((doc) => setLoad({ state: "ready", doc }))
      .catch((err: unknown) => {
        if (isAbortError(err)) return;
        if (err instanceof ApiError) setLoad({ state: "error", status: err.status, message: err.message });
        else setLoad({ state: "error", status: 0, message: "Could not open this document." });
      });
    return () => controller.abort();
  }, [id]);

  return load;
}
