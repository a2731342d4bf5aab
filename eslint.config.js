// Lint rules that keep the core honest (see ../shared/design/architecture.md):
// everything under src/ except src/node/ and src/cli/ is sans-IO and runtime-neutral.
import tseslint from "typescript-eslint";

const coreOnly = {
  files: ["src/**/*.ts"],
  ignores: ["src/node/**", "src/cli/**"],
  rules: {
    "no-restricted-imports": ["error", {
      patterns: [{ group: ["node:*"], message: "The core is runtime-neutral: no node: imports outside src/node and src/cli." }],
      paths: ["fs", "net", "dgram", "os", "crypto", "events", "stream", "buffer", "timers", "child_process"].map((name) => ({
        name, message: "The core is runtime-neutral: pass I/O in, do not import Node modules.",
      })),
    }],
    "no-restricted-globals": ["error",
      { name: "Buffer", message: "Use Uint8Array/DataView in the core." },
      { name: "setTimeout", message: "The core is sans-IO: time is passed in (poll(now) / nextDeadline())." },
      { name: "setInterval", message: "The core is sans-IO: time is passed in." },
      { name: "process", message: "The core is runtime-neutral." },
      { name: "performance", message: "The core is sans-IO: time is passed in." },
    ],
    "no-restricted-properties": ["error",
      { object: "Math", property: "random", message: "Randomness is passed in (an Rng)." },
      { object: "Date", property: "now", message: "Time is passed in." },
    ],
  },
};

// Small modules with one job each (issue 12: no source file over 800 lines).
const fileSize = {
  files: ["src/**/*.ts", "web/**/*.ts"],
  rules: { "max-lines": ["error", { max: 800, skipBlankLines: false, skipComments: false }] },
};

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "web/dist/**", "coverage/**"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/ban-ts-comment": "error",
    },
  },
  coreOnly,
  fileSize,
);
