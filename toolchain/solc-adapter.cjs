#!/usr/bin/env node
// A `solc` command line over solc-js (the official compiler built to wasm), answering
// the two calls py-solc-x / ape-solidity make: `--version` and `--standard-json`.
// Native solc cannot be downloaded on our machines; solc-js of the same version
// emits byte-identical bytecode.
"use strict";
const fs = require("fs");
const path = require("path");

const projectRoot = path.resolve(__dirname, "..");
const solc = require(path.join(projectRoot, "node_modules", "solc"));

const args = process.argv.slice(2);

function optionValue(name) {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : undefined;
}

if (args.includes("--version")) {
  // Same shape as native solc, which py-solc-x parses.
  process.stdout.write(
    "solc, the solidity compiler commandline interface\nVersion: " + solc.version() + "\n",
  );
  process.exit(0);
}

if (!args.includes("--standard-json")) {
  process.stderr.write("solc-adapter: only --version and --standard-json are supported\n");
  process.exit(2);
}

const basePath = optionValue("--base-path") || process.cwd();
const includePaths = (optionValue("--include-path") || "").split(",").filter(Boolean);
const allowPaths = (optionValue("--allow-paths") || "").split(",").filter(Boolean);
const searchRoots = [basePath, ...includePaths, ...allowPaths, projectRoot];

// Sources normally arrive inline; this callback resolves any import that did not.
function findImports(importPath) {
  for (const root of searchRoots) {
    const candidate = path.resolve(root, importPath);
    if (fs.existsSync(candidate)) {
      return { contents: fs.readFileSync(candidate, "utf8") };
    }
  }
  return { error: "File not found: " + importPath };
}

const input = fs.readFileSync(0, "utf8");
process.stdout.write(solc.compile(input, { import: findImports }));
