// The page of tests/web/test_tokens_browser.py: fetches the hub's token key directory (and a second
// copy of it), has tokens issued (the test server passes /issue on as a signed-in provider),
// finalises them and redeems one, all through hub/web/static/js/tokens.js, as window.TokensPage
// for Selenium's execute_async_script. Loaded as a classic script under the hub's CSP.
(function (root) {
  "use strict";
  const T = root.AbusehubTokens;

  async function json(response) {
    if (!response.ok) throw new Error("the test server answered " + response.status);
    return response.json();
  }

  // Tokens fetched and finalised, then `filing` redeemed with the first; what happened.
  async function fetchAndRedeem(filing, count) {
    const directory = await json(await fetch("/api/anonymity/token-keys/"));
    const key = await T.readDirectory(directory);
    T.checkConsistency(key, await json(await fetch("/second/anonymity/token-keys/")));
    const begun = [];
    for (let i = 0; i < count; i++) begun.push(await T.beginIssuance(key));
    const issued = await json(await fetch("/issue", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token_key_id: key.keyIdB64, requests: begun.map((b) => b.request) }),
    }));
    const tokens = [];
    for (let i = 0; i < count; i++) tokens.push(await T.finalizeToken(key, begun[i].state, issued.responses[i]));
    const receipt = await T.redeem("/api/", filing, tokens[0]);
    let again;
    try {
      await T.redeem("/api/", filing, tokens[0]);
      again = "accepted";
    } catch (e) {
      again = e.message;
    }
    return { receipt, again, tokens };
  }

  // A second source that shows another key: refused before anything is issued.
  async function refuseTailored() {
    const directory = await json(await fetch("/api/anonymity/token-keys/"));
    const key = await T.readDirectory(directory);
    try {
      T.checkConsistency(key, await json(await fetch("/tailored/anonymity/token-keys/")));
      return "accepted";
    } catch (e) {
      return e.message;
    }
  }

  root.TokensPage = { fetchAndRedeem, refuseTailored, vectors: (input) => root.tokensVectors(input) };
})(window);
