import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router-dom";
import { useSession } from "../auth/use-session";

/** Sends signed-out visitors to the sign-in screen, remembering where they wanted to go. */
export function RequireSession({ children }: { children: ReactNode }): ReactNode {
  const { session } = useSession();
  const location = useLocation();
  if (!session) {
    const from = `${location.pathname}${location.search}${location.hash}`;
    return <Navigate to="/" replace state={{ from }} />;
  }
  return children;
}
