import { useEffect, useRef, useState } from "react";
import type { ReactNode } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { ApiError } from "../api/http";
import { BrandMark } from "../components/app-header";

/**
 * Where an emailed single-use link lands: spends the token once, then goes where `use` says, or
 * says why the link cannot be used.
 */
export function OneTimeLinkPage(props: {
  /** Spends the token; answers where to go next. */
  use: (token: string) => Promise<string>;
  working: string;
  failed: string;
  back: string;
}): ReactNode {
  const { token = "" } = useParams();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const { use } = props;
  // The link works once: React's development double effect must not spend it twice.
  const sent = useRef(false);

  useEffect(() => {
    if (sent.current) return;
    sent.current = true;
    use(token)
      .then((to) => navigate(to, { replace: true }))
      .catch((err: unknown) => setError(err instanceof ApiError ? err.message : "Something went wrong. Please try again."));
  }, [token, navigate, use]);

  return (
    <div className="page">
      <main className="centered-message">
        <BrandMark />
        <h1>{error ? props.failed : props.working}</h1>
        {error && (
          <>
            <p className="muted" role="alert">
              {error}
            </p>
            <Link className="button" to="/">
              {props.back}
            </Link>
          </>
        )}
      </main>
    </div>
  );
}
