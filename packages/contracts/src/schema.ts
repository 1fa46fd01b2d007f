import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import { FormatRegistry, type Static, type TSchema } from "@sinclair/typebox";
import { AppError } from "./errors.ts";

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
if (!FormatRegistry.Has("date-time")) {
  FormatRegistry.Set("date-time", (v) => ISO_DATE_TIME.test(v) && !Number.isNaN(Date.parse(v)));
}

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

function checkerFor<T extends TSchema>(schema: T): TypeCheck<T> {
  let check = compiled.get(schema);
  if (!check) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  return check as TypeCheck<T>;
}

/** Validates untrusted data at an edge and returns it typed, or throws VALIDATION_FAILED naming the first bad field. */
export function parse<T extends TSchema>(schema: T, value: unknown, what = "input"): Static<T> {
  const check = checkerFor(schema);
  if (check.Check(value)) return value;
  const first = check.Errors(value).First();
  const where = first?.path ? first.path : "/";
  throw new AppError("VALIDATION_FAILED", `${what} is invalid at ${where}: ${first?.message ?? "unexpected value"}`, {
    details: [...check.Errors(value)].slice(0, 10).map((e) => ({ path: e.path, message: e.message })),
  });
}

export function isValid<T extends TSchema>(schema: T, value: unknown): value is Static<T> {
  return checkerFor(schema).Check(value);
}

/** Parses a JSON text, reporting broken JSON as MALFORMED_JSON rather than an internal error. */
export function parseJson(text: string, what = "body"): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AppError("MALFORMED_JSON", `${what} is not valid JSON`);
  }
}
