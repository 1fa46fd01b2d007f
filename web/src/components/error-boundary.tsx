import { Component } from "react";
import type { ReactNode } from "react";

interface ErrorBoundaryProps {
  children: ReactNode;
  /** Shown instead of the children after they threw. */
  fallback: (error: Error) => ReactNode;
}

interface ErrorBoundaryState {
  error: Error | null;
}

/**
 * Keeps one failing screen from blanking the whole app. The usual cause is a lazily loaded
 * screen whose file is gone (the app was updated while this tab was open) or a dropped
 * connection while it downloads; without a boundary React unmounts everything.
 */
export class ErrorBoundary extends Component<ErrorBoundaryProps, ErrorBoundaryState> {
  override state: ErrorBoundaryState = { error: null };

  // React itself reports the error on the console, with the component stack.
  static getDerivedStateFromError(error: unknown): ErrorBoundaryState {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override render(): ReactNode {
    return this.state.error ? this.props.fallback(this.state.error) : this.props.children;
  }
}

/** Failed to download a lazily loaded part of the app (what Vite's dynamic import throws). */
export function isChunkLoadError(error: Error): boolean {
  return /dynamically imported module|module script|Importing a module script failed|error loading dynamically/i.test(error.message);
}
