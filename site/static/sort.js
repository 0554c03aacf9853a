// Sort orders for lists of works. Without JavaScript the list keeps the order the site wrote
// (newest first); with it, a <select data-sort-target=ID> re-orders the cards inside #ID.
// A page with several lists loads this file once per list: each select is bound once.
(function () {
  const numeric = { year: true, citations: true };
  const descending = { year: true, citations: true, added: true };
  document.querySelectorAll("select[data-sort-target]").forEach(function (select) {
    const box = document.getElementById(select.dataset.sortTarget);
    if (!box || select.dataset.sortBound) return;
    select.dataset.sortBound = "1";
    const original = Array.from(box.childNodes);
    // where each card was written, so that the page's own order (groups by year) can come back
    const placed = Array.from(box.querySelectorAll("li.card")).map((c) => [c, c.parentNode]);
    select.addEventListener("change", function () {
      const key = select.value;
      box.replaceChildren(...original);
      placed.forEach(([card, parent]) => parent.appendChild(card));
      if (key === "default") return;
      const cards = placed.map(([card]) => card);
      const value = (c) => c.dataset[key] || "";
      cards.sort(function (a, b) {
        const x = value(a), y = value(b);
        if (!x || !y) return x ? -1 : y ? 1 : 0; // works without the value go last
        const order = numeric[key] ? Number(x) - Number(y) : x.localeCompare(y);
        return descending[key] ? -order : order;
      });
      const list = document.createElement("ul");
      list.className = "cards";
      cards.forEach((c) => list.appendChild(c));
      box.replaceChildren(list);
    });
  });
})();
