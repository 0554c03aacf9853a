// Filters for lists of works: a <select data-filter-target=ID data-filter-key=KEY> shows only the cards inside #ID
// whose data-KEY is the chosen value (all of them for ""); several selects on one list combine. A heading whose
// list has no card left is hidden with it. Without JavaScript every work is shown.
(function () {
  var lists = {};
  document.querySelectorAll("select[data-filter-target]").forEach(function (select) {
    if (select.dataset.filterBound) return;
    select.dataset.filterBound = "1";
    var id = select.dataset.filterTarget;
    (lists[id] = lists[id] || []).push(select);
    select.addEventListener("change", function () { apply(id); });
  });
  function apply(id) {
    var box = document.getElementById(id);
    if (!box) return;
    var chosen = lists[id].filter(function (s) { return s.value; });
    var shown = 0, cards = box.querySelectorAll("li.card");
    cards.forEach(function (card) {
      var keep = chosen.every(function (s) { return card.dataset[s.dataset.filterKey] === s.value; });
      card.hidden = !keep;
      if (keep) shown += 1;
    });
    box.querySelectorAll("ul.cards").forEach(function (list) {
      var empty = !list.querySelector("li.card:not([hidden])");
      list.hidden = empty;
      var heading = list.previousElementSibling;
      if (heading && heading.tagName === "H3") heading.hidden = empty;
    });
    var count = box.parentNode.querySelector(".filter-count");
    if (count) {
      count.hidden = !chosen.length;
      count.textContent = shown + " of " + cards.length + " works";
    }
  }
})();
