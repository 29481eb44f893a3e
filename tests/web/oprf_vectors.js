// Runs the RFC 9497 vectors under node, for tests/web/test_oprf_js.py: reads the vectors (see
// tests/web/oprf_vectors_lib.js) on stdin, loads hub/web/static/js/oprf.js (which evaluates the
// vendored noble-curves.js), writes the results as JSON on stdout.
"use strict";
const path = require("path");
const root = process.argv[2];
const O = require(path.join(root, "hub/web/static/js/oprf.js"));
const V = require(path.join(__dirname, "oprf_vectors_lib.js"));

let text = "";
process.stdin.on("data", (d) => { text += d; });
process.stdin.on("end", () => {
  process.stdout.write(JSON.stringify(V.run(O, JSON.parse(text))));
});
