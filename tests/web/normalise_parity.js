// Runs the page's normalisation (hub/web/static/js/normalise.js, with the vendored
// libphonenumber.js) under node, for tests/web/test_normalise_js.py: reads {"cases": [[kind,
// value, region or null], ...], "accounts": [[identity id, account id], ...], "oldEngine":
// optional true} on stdin, writes {"results": [["ok", normalised] or ["err", message], ...],
// "accounts": [scoped value, ...], "regions": [the bundle's supported regions], "unicode":
// node's Unicode version} on stdout. With oldEngine, String.prototype.normalize acts as a
// browser's whose Unicode data predates the characters normalise.js probes for.
"use strict";
const fs = require("fs");
const path = require("path");
const vm = require("vm");
const root = process.argv[2];
const N = require(path.join(root, "hub/web/static/js/normalise.js"));
// The vendored bundle, as a page loads it (a classic script defining the global libphonenumber).
const bundle = path.join(root, "hub/web/static/vendor/libphonenumber.js");
vm.runInThisContext(fs.readFileSync(bundle, "utf8"), { filename: bundle });

let text = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => { text += d; });
process.stdin.on("end", () => {
  const input = JSON.parse(text);
  if (input.oldEngine) {
    const normalize = String.prototype.normalize;
    const newer = /[\u{10781}\u1dfa\u{1e030}]/u;
    String.prototype.normalize = function (form) {
      return newer.test(this) ? String(this) : normalize.call(this, form);
    };
  }
  const results = input.cases.map(([kind, value, region]) => {
    try {
      return ["ok", N.normalise(kind, value, region === null ? undefined : region)];
    } catch (e) {
      return ["err", e.message];
    }
  });
  const accounts = input.accounts.map(([identity, account]) => N.providerAccountValue(identity, account));
  process.stdout.write(JSON.stringify({
    results,
    accounts,
    regions: globalThis.libphonenumber.getCountries(),
    unicode: process.versions.unicode,
  }));
});
