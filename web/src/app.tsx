import { lazy, Suspense } from "react";
import type { ReactNode } from "react";
import { Route, Routes, useLocation } from "react-router-dom";
import { ErrorBoundary } from "./components/error-boundary";
import { RequireSession } from "./components/require-session";
import { DocumentCrashed, DocumentLoading } from "./routes/document-frame";
import { Home } from "./routes/home";
import { NotFound } from "./routes/not-found";
import { InvitePage } from "./routes/invite-page";
import { ConfirmRegistrationPage } from "./routes/confirm-registration-page";
import { AccountPage, ForgotPasswordPage, ResetPasswordPage } from "./routes/password-pages";

// The editor stack (ProseMirror, Yjs) is most of the bundle; load it only when a document opens.
const TextDocumentPage = lazy(() => import("./routes/text-document-page"));
const BoardPage = lazy(() => import("./routes/board-page"));

/**
 * A lazily loaded document screen. If its code cannot be downloaded (a new version was deployed
 * while the tab was open, or the network dropped) it shows a way out instead of a blank page;
 * keyed by the address so that opening another page starts afresh.
 */
function DocumentScreen({ children }: { children: ReactNode }): ReactNode {
  const { pathname } = useLocation();
  return (
    <RequireSession>
      <ErrorBoundary key={pathname} fallback={(error) => <DocumentCrashed error={error} />}>
        <Suspense fallback={<DocumentLoading />}>{children}</Suspense>
      </ErrorBoundary>
    </RequireSession>
  );
}

export function App(): ReactNode {
  return (
    <Routes>
      <Route path="/" element={<Home />} />
      <Route
        path="/d/:id"
        element={
          <DocumentScreen>
            <TextDocumentPage />
          </DocumentScreen>
        }
      />
      <Route
        path="/b/:id"
        element={
          <DocumentScreen>
            <BoardPage />
          </DocumentScreen>
        }
      />
      <Route
        path="/invite/:token"
        element={
          <RequireSession>
            <InvitePage />
          </RequireSession>
        }
      />
      <Route path="/register/confirm/:token" element={<ConfirmRegistrationPage />} />
      <Route path="/forgot-password" element={<ForgotPasswordPage />} />
      <Route path="/reset-password/:token" element={<ResetPasswordPage />} />
      <Route
        path="/account"
        element={
          <RequireSession>
            <AccountPage />
          </RequireSession>
        }
      />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
