import { Streams, subjects } from "@palimpsest/contracts";
import type { ProjectionSpec } from "@palimpsest/platform";
import { applyFilesBatch } from "./files-projection.ts";
import { filesProjections, type FilesDb } from "./schema.ts";

/** The files service's read model: how it is built from its stream, and the tables it owns. */
export const filesProjectionSpecs: { spec: ProjectionSpec<FilesDb>; tables: readonly string[] }[] = [
  { spec: { name: "files", stream: Streams.docs, filterSubject: subjects.allFileEvents(), apply: applyFilesBatch }, tables: filesProjections.files },
];
