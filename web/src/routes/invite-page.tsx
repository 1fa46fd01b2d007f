import { useEffect, useRef, useState } from "react";
import type { ReactNode } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api } from "../api/api-client";
import { ApiError } from "../api/http";
import { BrandMark } from "../components/app-header";

/**
 * Where an emailed invitation link lands (behind RequireSession, so a visitor signs in or creates
 * an account first and comes back here): accepts it and opens the document.
 */
export function InvitePage(): ReactNode {
  const { token = "" } = useParams();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  // The link works once: React's development double effect must not spend it twice.
  const sent = useRef(false);

  useEffect(() => {
    if (sent.current) return;
    sent.current = true;
    api.invitations
      .accept(token)
      .then((accepted) => navigate(`/${accepted.kind === "board" ? "b" : "d"}/${accepted.docId}`, { replace: true }))
      .catch((err: unknown) => setError(err instanceof ApiError ? err.message : "Something went wrong. Please try again."));
  }, [token, navigate]);

  return (
    <div className="page">
      <main className="centered-message">
        <BrandMark />
        <h1>{error ? "This invitation cannot be used" : "Opening the invitation…"}</h1>
        {error && (
          <>
            <p className="muted" role="alert">
              {error}
            </p>
            <Link className="button" to="/">
              Go to your documents
            </Link>
          </>
        )}
      </main>
    </div>
  );
}
