// Runs tests/web/blindrsa_vectors_lib.js under node over the vendored blindrsa.js, both loaded as
// the classic scripts a page loads: the input (JSON) on standard input, the results (JSON) out.
"use strict";
const fs = require("fs");
const path = require("path");
const vm = require("vm");

const root = path.resolve(__dirname, "..", "..");
for (const file of [path.join(root, "hub", "web", "static", "vendor", "blindrsa.js"),
                    path.join(__dirname, "blindrsa_vectors_lib.js")]) {
  vm.runInThisContext(fs.readFileSync(file, "utf8"), { filename: file });
}
const input = JSON.parse(fs.readFileSync(0, "utf8"));
globalThis.blindrsaVectors(input).then(
  (out) => process.stdout.write(JSON.stringify(out)),
  (e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
