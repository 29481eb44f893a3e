// The page of tests/web/test_oprf_browser.py: runs the RFC 9497 vectors (oprf_vectors_lib.js)
// and oblivious pseudonyms through the page's oprf.js in the browser, as window.OprfPage, for
// Selenium's execute_async_script. Loaded as a classic script under the hub's CSP.
(function (root) {
  "use strict";

  async function json(response) {
    if (!response.ok) throw new Error("the test server answered " + response.status);
    return response.json();
  }

  async function vectors() {
    const data = await json(await fetch("/vectors.json"));
    return {
      loaded: typeof root.nobleCurves === "object" && typeof root.require === "undefined",
      results: root.OprfVectors.run(root.AbusehubOprf, data),
    };
  }

  // Pseudonyms of items through the hub's key document and evaluation at `evaluatePath`; the
  // pseudonyms, or the error's name and message.
  async function pseudonymise(items, evaluatePath) {
    const key = await json(await fetch("/key"));
    const evaluate = async (body) => json(await fetch(evaluatePath, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    }));
    try {
      return { result: await root.AbusehubOprf.pseudonymise(items, key, evaluate) };
    } catch (e) {
      return { error: e.message, name: e.name };
    }
  }

  root.OprfPage = { vectors, pseudonymise };
})(window);
