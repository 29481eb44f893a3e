// Runs tests/web/hpke_vectors_lib.js under node over the vendored hpke.js, canonicalize.js and the
// page's signing.js and escrow.js, each loaded as the classic script a page loads: the input
// (JSON) on standard input, the results (JSON) out.
"use strict";
const fs = require("fs");
const path = require("path");
const vm = require("vm");

const root = path.resolve(__dirname, "..", "..");
const stat = path.join(root, "hub", "web", "static");
// canonicalize.js is a CommonJS module (the page gives it cjs-shim.js's `module`).
globalThis.canonicalizeForTests = require(path.join(stat, "vendor", "canonicalize.js"));
for (const file of [path.join(stat, "vendor", "hpke.js"), path.join(stat, "js", "signing.js"),
                    path.join(stat, "js", "escrow.js"), path.join(__dirname, "hpke_vectors_lib.js")]) {
  vm.runInThisContext(fs.readFileSync(file, "utf8"), { filename: file });
}
const input = JSON.parse(fs.readFileSync(0, "utf8"));
globalThis.hpkeVectors(input).then(
  (out) => process.stdout.write(JSON.stringify(out)),
  (e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
