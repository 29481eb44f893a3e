// The vendored canonicalize.js is a CommonJS module (it assigns module.exports); this gives it
// a `module` to assign to, so the vendored file is served exactly as published.
var module = { exports: {} };
