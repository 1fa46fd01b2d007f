import type { ReactNode } from "react";
import { Link } from "react-router-dom";
import { BrandMark } from "../components/app-header";

export function NotFound(): ReactNode {
  return (
    <div className="page">
      <main className="centered-message">
        <BrandMark />
        <h1>Page not found</h1>
        <p className="muted">There is nothing at this address.</p>
        <Link className="button" to="/">
          Go to your documents
        </Link>
      </main>
    </div>
  );
}
