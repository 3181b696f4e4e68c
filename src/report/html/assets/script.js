(function () {
  "use strict";
  var all = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };
  var rank = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };
  var form = document.getElementById("filters");
  var sections = all("section.control");
  var cells = {};
  all("ul.grid a.cell").forEach(function (a) { cells[a.getAttribute("data-id")] = a; });
  var apply = function () {};
  if (form && sections.length) {
    form.hidden = false;
    var texts = sections.map(function (s) { return s.textContent.toLowerCase(); });
    var value = function (name) { var e = form.elements[name]; return e ? e.value : ""; };
    apply = function () {
      var status = value("status"), theme = value("theme"), sev = value("severity");
      var query = value("q").trim().toLowerCase();
      var min = sev ? rank[sev] : -1;
      var shown = 0, perTheme = {};
      sections.forEach(function (s, i) {
        var sevs = (s.getAttribute("data-sev") || "").split(" ").filter(Boolean);
        var ok = (!status || s.getAttribute("data-status") === status) &&
          (!theme || s.getAttribute("data-theme") === theme) &&
          (min < 0 || sevs.some(function (x) { return rank[x] >= min; })) &&
          (!query || texts[i].indexOf(query) >= 0);
        s.hidden = !ok;
        if (ok) { shown += 1; perTheme[s.getAttribute("data-theme")] = true; }
        var cell = cells[s.getAttribute("data-id")];
        if (cell) { cell.classList.toggle("off", !ok); }
        all("[data-sev-item]", s).forEach(function (f) {
          f.hidden = min >= 0 && rank[f.getAttribute("data-sev-item")] < min;
        });
      });
      all(".theme-controls").forEach(function (t) { t.hidden = !perTheme[t.getAttribute("data-theme")]; });
      var out = document.getElementById("shown");
      if (out) { out.textContent = shown + " of " + sections.length + " controls shown"; }
    };
    form.addEventListener("input", apply);
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    form.addEventListener("reset", function () { window.setTimeout(apply, 0); });
    Object.keys(cells).forEach(function (id) {
      cells[id].addEventListener("click", function () {
        var target = document.getElementById("c-" + id.replace(/\./g, "-"));
        if (target && target.hidden) { form.reset(); apply(); }
      });
    });
    apply();
  }
  // The organisation heatmap: order repositories by failing controls or by name.
  all("[data-sort]").forEach(function (button) {
    button.addEventListener("click", function () {
      var table = document.getElementById(button.getAttribute("data-table"));
      if (!table) { return; }
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var key = button.getAttribute("data-sort");
      rows.sort(function (a, b) {
        if (key === "failing") {
          var d = Number(b.getAttribute("data-failing")) - Number(a.getAttribute("data-failing"));
          if (d !== 0) { return d; }
        }
        var x = a.getAttribute("data-name"), y = b.getAttribute("data-name");
        return x < y ? -1 : x > y ? 1 : 0;
      });
      rows.forEach(function (r) { body.appendChild(r); });
      all("[data-sort]").forEach(function (b) { b.setAttribute("aria-pressed", String(b === button)); });
    });
  });
  // Printing shows everything: open collapsed lists and lift the filters while the page prints.
  var opened = [];
  window.addEventListener("beforeprint", function () {
    opened = all("details:not([open])");
    opened.forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) { d.open = false; });
    opened = [];
  });
})();
