import { fileURLToPath } from "node:url";
import { build, type BuildFailure } from "esbuild";
import { describe, expect, it } from "vitest";
import * as full from "../src/index.ts";
import * as shared from "../src/shared.ts";

const source = (file: string) => fileURLToPath(new URL(`../src/${file}`, import.meta.url));

// Globals a browser does not have: code using them bundles fine and fails when it runs. Each
// free reference to one is replaced by a marker, which strings and local names never are.
const NODE_GLOBALS = ["Buffer", "process", "require", "__dirname", "__filename", "setImmediate", "global"];
const MARKER = /__node_global_(\w+)__/g;

/** Bundles an entry as the web app's bundler would for a browser: no Node built-ins to resolve. */
async function bundleForBrowser(entry: string): Promise<{ nodeGlobals: string[]; inputs: string[] }> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: "browser",
    format: "esm",
    write: false,
    metafile: true,
    logLevel: "silent",
    define: Object.fromEntries(NODE_GLOBALS.map((name) => [name, `__node_global_${name}__`])),
  });
  const code = result.outputFiles[0]?.text ?? "";
  return { nodeGlobals: [...new Set([...code.matchAll(MARKER)].map((m) => m[1] ?? m[0]))], inputs: Object.keys(result.metafile.inputs) };
}

describe("the browser entry of the contracts package", () => {
  it("given the shared entry, when bundled for the browser, then nothing Node-only is reached and no Node global is used", async () => {
    const { nodeGlobals, inputs } = await bundleForBrowser(source("shared.ts"));
    expect(inputs.filter((input) => input.startsWith("node:"))).toEqual([]);
    expect(nodeGlobals).toEqual([]);
  });

  it("given the full entry, when bundled for the browser, then it fails on node:crypto (the check above can fail)", async () => {
    const failure = await bundleForBrowser(source("index.ts")).then(
      () => null,
      (err: BuildFailure) => err,
    );
    expect(failure?.errors.map((e) => e.text).join("\n")).toMatch(/node:crypto/);
  });

  it("given a value of the shared entry, when imported from the full entry, then it is the very same value", () => {
    for (const [name, value] of Object.entries(shared)) expect(full[name as keyof typeof full], name).toBe(value);
  });
});
