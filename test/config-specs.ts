import { configSpec as auth } from "@palimpsest/auth/operations";
import { configSpec as docs } from "@palimpsest/docs/operations";
import { configSpec as files } from "@palimpsest/files/operations";
import { configSpec as gateway } from "@palimpsest/gateway/operations";
import { configSpec as history } from "@palimpsest/history/operations";
import { configSpec as sync } from "@palimpsest/sync/operations";

export const configSpecs = { gateway, auth, docs, sync, files, history } as const;
