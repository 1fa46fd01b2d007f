import type { ReactNode } from "react";
import { BrandMark } from "./app-header";

/** The frame of every signed-out page: the brand, a title, and what the page asks for. */
export function AuthCard(props: { title: string; children: ReactNode }): ReactNode {
  return (
    <div className="auth-page">
      <main className="auth-card">
        <div className="auth-brand">
          <BrandMark />
        </div>
        <h1 className="auth-title">{props.title}</h1>
        {props.children}
      </main>
    </div>
  );
}
