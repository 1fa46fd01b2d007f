import { Streams, subjects } from "@palimpsest/contracts";
import type { ProjectionSpec } from "@palimpsest/platform";
import { applyAuthBatch } from "./auth-projection.ts";
import { authProjections, type AuthDb } from "./schema.ts";

/** The auth service's read models: how each is built from its stream, and the tables it owns. */
export const authProjectionSpecs: { spec: ProjectionSpec<AuthDb>; tables: readonly string[]; batchSize?: number }[] = [
  { spec: { name: "auth", stream: Streams.auth, filterSubject: subjects.allAuthEvents(), apply: applyAuthBatch }, tables: authProjections.auth },
];
