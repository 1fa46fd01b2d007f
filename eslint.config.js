import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", ".data/**", ".tools/**", "test-artifacts/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": ["error", { allow: ["error"] }],
    },
  },
  {
    files: ["scripts/**", "bench/**", "web/**"],
    rules: { "no-console": "off" },
  },
  {
    // The full entry of the contracts package pulls node:crypto; the browser has its own.
    files: ["web/**"],
    rules: {
      "no-restricted-imports": ["error", { paths: [{ name: "@palimpsest/contracts", message: "The web app imports @palimpsest/contracts/shared." }] }],
    },
  },
);
