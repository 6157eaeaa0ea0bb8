// Tremor's charts: draws the server-built plotly figures, refreshes them every minute
// without a page reload, switches ranges, shows local times, copies embed codes.
// No inline scripts: figures and settings come in <script type="application/json"> blocks.
(function () {
  "use strict";
  var settingsEl = document.getElementById("tremor-settings");
  var settings = settingsEl ? JSON.parse(settingsEl.textContent) : {};
  var lang = settings.language || document.documentElement.lang || "en";
  var REFRESH_MS = (settings.refreshSeconds || 60) * 1000;

  // Month and day names for the axes in French and German (plotly.js ships only English).
  var LOCALES = {
    fr: {
      months: ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"],
      shortMonths: ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."],
      days: ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
      shortDays: ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
      date: "%d/%m/%Y", decimal: ",", thousands: "\u202f",
    },
    de: {
      months: ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"],
      shortMonths: ["Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.", "Dez."],
      days: ["Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"],
      shortDays: ["So.", "Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa."],
      date: "%d.%m.%Y", decimal: ",", thousands: ".",
    },
  };
  if (window.Plotly) {
    Object.keys(LOCALES).forEach(function (name) {
      var f = LOCALES[name];
      Plotly.register({
        moduleType: "locale", name: name, dictionary: {},
        format: {
          days: f.days, shortDays: f.shortDays, months: f.months, shortMonths: f.shortMonths,
          date: f.date, decimal: f.decimal, thousands: f.thousands, year: "%Y", month: "%b %Y",
          dayMonth: "%-d %b", dayMonthYear: "%-d %b %Y",
        },
      });
    });
  }

  function plotConfig(el) {
    return {
      responsive: true,
      displaylogo: false,
      locale: LOCALES[lang] ? lang : "en",
      // The world map comes from our own static files, never plotly's CDN.
      topojsonURL: settings.topojsonURL,
      modeBarButtonsToRemove: ["select2d", "lasso2d"],
      toImageButtonOptions: { format: "png", filename: el.dataset.filename || "tremor-chart", scale: 2 },
    };
  }

  function draw(el, figure) {
    // Embeds fit their iframe: the page asks for a smaller chart than the figure's default.
    if (el.dataset.height) figure.layout.height = Number(el.dataset.height);
    return Plotly.react(el, figure.data, figure.layout, plotConfig(el)).then(function () {
      el.setAttribute("data-drawn", String(Number(el.getAttribute("data-drawn") || 0) + 1));
    });
  }

  var currentRange = settings.range || null;

  function withRange(url) {
    return currentRange ? url + (url.indexOf("?") < 0 ? "?" : "&") + "range=" + encodeURIComponent(currentRange) : url;
  }

  function refreshChart(el) {
    return fetch(withRange(el.dataset.src), { headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status + " " + r.url); return r.json(); })
      .then(function (payload) {
        var alt = document.getElementById(el.id + "-alt");
        if (alt && payload.alt_html) alt.innerHTML = payload.alt_html; // escaped by Django templates
        return draw(el, payload.figure);
      });
  }

  function refreshStatus() {
    var box = document.getElementById("status-box");
    if (!box || !box.dataset.src) return Promise.resolve();
    return fetch(box.dataset.src).then(function (r) { return r.json(); }).then(function (s) {
      var sentence = document.getElementById("summary");
      if (sentence) sentence.textContent = s.sentence;
      Object.keys(s.texts || {}).forEach(function (id) {
        var el = document.getElementById(id);
        if (el) el.textContent = s.texts[id];
      });
      var badge = document.getElementById("status-badge");
      if (badge) {
        badge.className = "badge badge-" + s.level;
        badge.textContent = badge.dataset["label" + s.level[0].toUpperCase() + s.level.slice(1)] || s.level;
      }
    });
  }

  function refreshAll() {
    var charts = Array.prototype.slice.call(document.querySelectorAll("[data-chart][data-src]"));
    var done = Promise.all(charts.map(refreshChart).concat([refreshStatus()]));
    return done.then(function () {
      var stamp = document.getElementById("updated-at");
      if (stamp) stamp.textContent = new Date().toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
    }).catch(function (err) { console.warn("refresh failed", err); });
  }

  function setRange(range) {
    currentRange = range;
    document.querySelectorAll("[data-range]").forEach(function (a) {
      var on = a.dataset.range === range;
      a.classList.toggle("active", on);
      a.setAttribute("aria-current", on ? "true" : "false");
    });
    document.querySelectorAll("a[data-csv]").forEach(function (a) {
      a.href = a.dataset.csv + "?range=" + encodeURIComponent(range);
    });
    var url = new URL(window.location.href);
    url.searchParams.set("range", range);
    window.history.replaceState(null, "", url.toString());
    return refreshAll();
  }

  function localTimes() {
    var fmt = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
    document.querySelectorAll("time[data-local]").forEach(function (t) {
      var out = document.getElementById(t.dataset.local);
      if (out) out.textContent = fmt.format(new Date(t.getAttribute("datetime")));
    });
  }

  function copyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var source = document.getElementById(button.dataset.copy);
        var text = source.value || source.textContent;
        var done = function () { button.textContent = button.dataset.copied || "Copied"; };
        source.select && source.select();
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done, function () { document.execCommand("copy"); done(); });
        } else {
          document.execCommand("copy");
          done();
        }
      });
    });
  }

  function serviceSearch() {
    var input = document.getElementById("service-search");
    if (!input) return;
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      document.querySelectorAll("[data-service-name]").forEach(function (li) {
        li.hidden = q !== "" && li.dataset.serviceName.indexOf(q) < 0;
      });
    });
  }

  function start() {
    var charts = document.querySelectorAll("[data-chart]");
    Array.prototype.forEach.call(charts, function (el) {
      var data = document.getElementById(el.dataset.figure);
      if (data) draw(el, JSON.parse(data.textContent));
      else if (el.dataset.src) refreshChart(el).catch(function (err) { console.warn("chart failed", err); });
    });
    document.querySelectorAll("a[data-range]").forEach(function (a) {
      a.addEventListener("click", function (event) {
        event.preventDefault();
        setRange(a.dataset.range);
      });
    });
    localTimes();
    copyButtons();
    serviceSearch();
    if (charts.length) window.setInterval(refreshAll, REFRESH_MS);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
