// Pagefind's UI over the site's index, with filters for technique, motivation, year and kind.
// Opened as a file (file://) the browser will not let Pagefind fetch its index: say how to serve the site.
(function () {
  var note = document.getElementById("search-note");
  var query = new URLSearchParams(window.location.search).get("q") || "";
  if (window.location.protocol === "file:" || typeof PagefindUI === "undefined") {
    note.hidden = false;
    note.textContent = window.location.protocol === "file:"
      ? "Search needs the site served over HTTP: run `kb site serve` and open the address it prints."
      : "The search index is missing: build the site with `kb site build` (Pagefind indexes it).";
    return;
  }
  var bundle = new URL("pagefind/", document.baseURI).pathname;
  // A large site's index comes in shards (pagefind/shard-K/, listed in pagefind/shards.json): Pagefind merges them.
  function start(shards) {
    var ui = new PagefindUI({
      element: "#search",
      showSubResults: true,
      showImages: false,
      resetStyles: false,
      bundlePath: bundle,
      mergeIndex: shards.map(function (path) { return { bundlePath: bundle + path }; }),
      translations: { placeholder: "Search works, summaries and techniques" }
    });
    if (query) {
      ui.triggerSearch(query);
    }
  }
  fetch(bundle + "shards.json")
    .then(function (answer) { return answer.ok ? answer.json() : []; })
    .then(function (shards) {
      // only names of the form shard-N/ are taken: the list is data, never a path to anywhere else
      start(Array.isArray(shards) ? shards.filter(function (p) { return /^shard-[0-9]+\/$/.test(p); }) : []);
    }, function () { start([]); });
})();
