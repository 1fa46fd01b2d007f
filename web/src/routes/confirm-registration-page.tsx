import { useEffect, useRef, useState } from "react";
import type { ReactNode } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { ApiError } from "../api/http";
import { confirmSignUp } from "../auth/use-session";
import { BrandMark } from "../components/app-header";

/** Where the emailed registration link lands: creates the account, signs it in, opens the dashboard. */
export function ConfirmRegistrationPage(): ReactNode {
  const { token = "" } = useParams();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  // The link works once: React's development double effect must not spend it twice.
  const sent = useRef(false);

  useEffect(() => {
    if (sent.current) return;
    sent.current = true;
    confirmSignUp(token)
      .then(() => navigate("/", { replace: true }))
      .catch((err: unknown) => setError(err instanceof ApiError ? err.message : "Something went wrong. Please try again."));
  }, [token, navigate]);

  return (
    <div className="page">
      <main className="centered-message">
        <BrandMark />
        <h1>{error ? "This link cannot be used" : "Creating your account…"}</h1>
        {error && (
          <>
            <p className="muted" role="alert">
              {error}
            </p>
            <Link className="button" to="/">
              Sign in or register again
            </Link>
          </>
        )}
      </main>
    </div>
  );
}
