import { lazy, Suspense } from "react";
import type { ReactNode } from "react";
import { Route, Routes } from "react-router-dom";
import { RequireSession } from "./components/require-session";
import { DocumentLoading } from "./routes/document-frame";
import { Home } from "./routes/home";
import { NotFound } from "./routes/not-found";

// The editor stack (ProseMirror, Yjs) is most of the bundle; load it only when a document opens.
const TextDocumentPage = lazy(() => import("./routes/text-document-page"));
const BoardPage = lazy(() => import("./routes/board-page"));

export function App(): ReactNode {
  return (
    <Routes>
      <Route path="/" element={<Home />} />
      <Route
        path="/d/:id"
        element={
          <RequireSession>
            <Suspense fallback={<DocumentLoading />}>
              <TextDocumentPage />
            </Suspense>
          </RequireSession>
        }
      />
      <Route
        path="/b/:id"
        element={
          <RequireSession>
            <Suspense fallback={<DocumentLoading />}>
              <BoardPage />
            </Suspense>
          </RequireSession>
        }
      />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
