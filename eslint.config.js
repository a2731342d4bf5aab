// Lint rules that keep the core honest (see ../shared/design/architecture.md):
// everything under src/ except src/node/ and src/cli/ is sans-IO and runtime-neutral.
import tseslint from "typescript-eslint";

const runtimeNeutral = {
  patterns: [{ group: ["node:*"], message: "The core is runtime-neutral: no node: imports outside src/node and src/cli." }],
  paths: ["fs", "net", "dgram", "os", "crypto", "events", "stream", "buffer", "timers", "child_process"].map((name) => ({
    name, message: "The core is runtime-neutral: pass I/O in, do not import Node modules.",
  })),
};

const coreOnly = {
  files: ["src/**/*.ts"],
  ignores: ["src/node/**", "src/cli/**"],
  rules: {
    "no-restricted-imports": ["error", runtimeNeutral],
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

// Imports point downwards only (architecture.md, "Layers"): a layer names the folders
// above it that it must not import. It replaces coreOnly's import rule for its files, so
// it carries the runtime-neutral restrictions along.
const above = (...folders) => folders.map((f) => `**/${f}/**`);
const upper = ["api", "drill", "dns", "scenario", "node", "cli"];
const layer = (folder, forbidden) => ({
  files: [`src/${folder}/**/*.ts`],
  rules: {
    "no-restricted-imports": ["error", {
      ...runtimeNeutral,
      patterns: [...runtimeNeutral.patterns, { group: forbidden, message: `src/${folder} stands below this module: imports point downwards only (architecture.md).` }],
    }],
  },
});
const layers = [
  layer("wire", ["../**"]),
  layer("trace", above("sim", "ip", "tcp", "host", ...upper)),
  layer("sim", above("ip", "tcp", "host", ...upper)),
  layer("ip", above("sim", "tcp", "host", ...upper)),
  layer("tcp", above("sim", "host", ...upper)),
  layer("host", above("sim", ...upper)),
];

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
  ...layers,
  fileSize,
);
