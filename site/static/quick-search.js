// The header's search box answers as you type: the first results from the site's Pagefind index in a list under
// the box, and Enter (or "All results") opens the search page with its filters. Pagefind's code is fetched on the
// first keystroke only. Opened as a file (file://) the index cannot be fetched: the box then just submits.
(function () {
  var form = document.querySelector("form.quick-search");
  if (!form || window.location.protocol === "file:") return;
  var input = form.querySelector("input[type=search]");
  var list = document.createElement("ul");
  list.className = "quick-results";
  list.id = "quick-results";
  list.hidden = true;
  form.appendChild(list);
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("autocomplete", "off");
  var bundle = new URL("pagefind/", form.action).pathname;
  var ready = null;
  function load() {
    if (!ready) {
      ready = import(bundle + "pagefind.js").then(function (pagefind) {
        return pagefind.options({ bundlePath: bundle })
          .then(function () { return fetch(bundle + "shards.json"); })
          .then(function (answer) { return answer.ok ? answer.json() : []; }, function () { return []; })
          .then(function (shards) {
            var own = Array.isArray(shards) ? shards.filter(function (p) { return /^shard-[0-9]+\/$/.test(p); }) : [];
            return Promise.all(own.map(function (p) { return pagefind.mergeIndex(bundle + p); }));
          })
          .then(function () { return pagefind; });
      });
    }
    return ready;
  }
  var latest = 0;
  input.addEventListener("input", function () {
    var text = input.value.trim();
    var asked = ++latest;
    if (text.length < 2) { list.hidden = true; return; }
    load().then(function (pagefind) { return pagefind.debouncedSearch(text, {}, 250); })
      .then(function (found) {
        if (!found || asked !== latest) return null;  // a later keystroke superseded this search
        return Promise.all(found.results.slice(0, 6).map(function (r) { return r.data(); }))
          .then(function (items) { if (asked === latest) show(items, found.results.length, text); });
      })
      .catch(function () { list.hidden = true; });
  });
  function show(items, total, text) {
    list.replaceChildren();
    items.forEach(function (item) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = item.url;
      a.textContent = (item.meta && item.meta.title) || item.url;  // text, never HTML
      li.appendChild(a);
      list.appendChild(li);
    });
    var all = document.createElement("li");
    var more = document.createElement("a");
    more.href = form.action + "?q=" + encodeURIComponent(text);
    more.className = "all-results";
    more.textContent = total ? "All " + total + " results, with filters" : "No result: open the search page";
    all.appendChild(more);
    list.appendChild(all);
    list.hidden = false;
  }
  document.addEventListener("click", function (e) { if (!form.contains(e.target)) list.hidden = true; });
  input.addEventListener("keydown", function (e) { if (e.key === "Escape") list.hidden = true; });
})();
