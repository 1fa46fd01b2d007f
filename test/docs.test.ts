import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { expectedContractDocs, repoRoot } from "../scripts/contract-docs.ts";

describe("docs/", () => {
  it("the parts generated from the contracts are up to date (npm run docs:contracts)", () => {
    for (const [file, expected] of expectedContractDocs()) {
      expect(fs.readFileSync(path.join(repoRoot, file), "utf8"), `${file} is stale: run npm run docs:contracts`).toBe(expected);
    }
  });

  it("every link to a file of the repository points at one that exists", () => {
    const pages = ["README.md", ...fs.readdirSync(path.join(repoRoot, "docs")).map((f) => path.join("docs", f))].filter((f) => f.endsWith(".md"));
    const broken: string[] = [];
    for (const page of pages) {
      const text = fs.readFileSync(path.join(repoRoot, page), "utf8");
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (!target || /^[a-z]+:/i.test(target) || target.startsWith("#")) continue;
        const file = target.split("#")[0]!;
        if (!fs.existsSync(path.join(repoRoot, path.dirname(page), file))) broken.push(`${page}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
