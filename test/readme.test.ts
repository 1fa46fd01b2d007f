import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "@palimpsest/devkit";
import { configSpecs } from "./config-specs.ts";

describe("README", () => {
  const readme = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8");

  it("documents every setting every service reads", () => {
    const missing = Object.values(configSpecs)
      .flatMap((spec) => Object.values(spec).map((f) => f.env))
      .filter((name) => !readme.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it("names the two commands, and CI runs exactly the test command", () => {
    expect(readme).toContain("npm start");
    expect(readme).toContain("npm test");
    expect(fs.readFileSync(path.join(repoRoot, ".ci", "run"), "utf8")).toMatch(/^npm test$/m);
  });
});
