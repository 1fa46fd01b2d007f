// Shareable addresses of documents: text at /d/:id, boards at /b/:id (see DESIGN.md).

import type { DocKind } from "../api/types";

export function documentPath(doc: { id: string; kind: DocKind }): string {
  return `/${doc.kind === "board" ? "b" : "d"}/${encodeURIComponent(doc.id)}`;
}
