// The ShopWatch galleries as a Telegram Mini App. Served by the bot; loads nothing else.
//
// Telegram opens this page with its launch parameters in the URL's fragment:
// tgWebAppData (the signed initData the server checks on every call) and
// tgWebAppThemeParams (the app's colours). This script reads them itself rather than
// loading telegram-web-app.js from Telegram's servers, and speaks the few web-app
// events it needs (web_app_ready, web_app_expand, the back button, theme_changed) as
// core.telegram.org/api/web-events describes.
(function () {
  "use strict";

  var base = location.pathname.replace(/\/+$/, "");
  var STORE_DATA = "shopwatch.initData";
  var STORE_THEME = "shopwatch.themeParams";
  var state = { initData: "", scheme: "", galleries: null, tab: "id_sought", onBack: null };

  // --- Telegram: launch parameters, theme, events ---------------------------------------

  function launchParams() {
    var fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
    var data = fragment.get("tgWebAppData");
    var theme = fragment.get("tgWebAppThemeParams");
    try {
      if (data) {
        sessionStorage.setItem(STORE_DATA, data);
        if (theme) sessionStorage.setItem(STORE_THEME, theme);
        else sessionStorage.removeItem(STORE_THEME);
      } else {
        data = sessionStorage.getItem(STORE_DATA);
        theme = sessionStorage.getItem(STORE_THEME);
      }
    } catch (e) { /* storage off: this load's parameters still work */ }
    if (location.hash) history.replaceState(null, "", location.pathname + location.search);
    var params = null;
    try { params = theme ? JSON.parse(theme) : null; } catch (e) { params = null; }
    return { initData: data || "", theme: params };
  }

  function luminance(hex) {
    var m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex || "");
    if (!m) return null;
    var rgb = [m[1], m[2], m[3]].map(function (h) { return parseInt(h, 16) / 255; });
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
  }

  function applyTheme(params) {
    if (!params || typeof params !== "object") return;
    var root = document.documentElement;
    Object.keys(params).forEach(function (key) {
      var value = String(params[key]);
      if (/^[a-z_]+$/.test(key) && /^#[0-9a-f]{3,8}$/i.test(value)) {
        root.style.setProperty("--tg-theme-" + key.replace(/_/g, "-"), value);
      }
    });
    var light = luminance(params.bg_color);
    if (light !== null) root.setAttribute("data-scheme", light < 0.5 ? "dark" : "light");
  }

  function postEvent(type, data) {
    var body = JSON.stringify(data || {});
    try {
      if (window.TelegramWebviewProxy && window.TelegramWebviewProxy.postEvent) {
        window.TelegramWebviewProxy.postEvent(type, body);
      } else if (window.external && "notify" in window.external) {
        window.external.notify(JSON.stringify({ eventType: type, eventData: data || {} }));
      } else if (window.parent && window.parent !== window) {
        window.parent.postMessage(JSON.stringify({ eventType: type, eventData: data || {} }), "*");
      }
    } catch (e) { /* outside Telegram nobody listens */ }
  }

  function receiveEvent(type, data) {
    if (type === "theme_changed" && data && data.theme_params) applyTheme(data.theme_params);
    if (type === "back_button_pressed" && state.onBack) state.onBack();
  }

  window.Telegram = window.Telegram || {};
  window.Telegram.WebView = { receiveEvent: receiveEvent };
  window.TelegramGameProxy = { receiveEvent: receiveEvent };
  window.TelegramGameProxy_receiveEvent = receiveEvent;
  window.addEventListener("message", function (event) {
    if (event.source !== window.parent) return;
    try {
      var message = JSON.parse(event.data);
      if (message && message.eventType) receiveEvent(message.eventType, message.eventData);
    } catch (e) { /* not an event of Telegram's */ }
  });

  function backButton(onBack) {
    state.onBack = onBack;
    postEvent("web_app_setup_back_button", { is_visible: !!onBack });
  }

  // --- the server -------------------------------------------------------------------------

  function Refusal(reason, message) { this.reason = reason; this.message = message; }

  function api(path) {
    var query = state.scheme ? "?scheme=" + encodeURIComponent(state.scheme) : "";
    return fetch(base + "/api/" + path + query, {
      headers: { Authorization: "tma " + state.initData },
      cache: "no-store",
      credentials: "omit"
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) {
          throw new Refusal(body.error || "error", body.message || "The gallery cannot be shown.");
        }
        return body;
      });
    });
  }

  // --- drawing (text only through textContent: descriptions are people's words) ----------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "className") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function $(id) { return document.getElementById(id); }

  function show(node) {
    var view = $("view");
    view.replaceChildren(node);
    $("error").hidden = true;
    window.scrollTo(0, 0);
  }

  function refuse(error) {
    var box = $("error");
    var reason = error instanceof Refusal ? error.reason : "error";
    box.textContent = error instanceof Refusal ? error.message
      : "The gallery cannot be reached: check your connection and open it again.";
    box.setAttribute("data-reason", reason);
    box.hidden = false;
    $("view").replaceChildren();
    $("tabs").hidden = true;
    backButton(null);
  }

  function badge(entry) {
    if (entry.excluded_until) return el("span", { className: "badge", text: "Excluded until " + entry.excluded_until });
    if (entry.warned_until) return el("span", { className: "badge warning", text: "Warned until " + entry.warned_until });
    if (entry.scheme) return el("span", { className: "badge neighbour", text: entry.scheme });
    return null;
  }

  function card(entry) {
    var picture = entry.image
      ? el("img", { src: entry.image, alt: entry.title, loading: "lazy" })
      : el("div", { className: "nophoto", text: "No photo" });
    var button = el("button", { className: "card", type: "button", "data-subject-id": String(entry.id) }, [
      picture,
      el("span", { className: "title", text: entry.title }),
      badge(entry),
      el("span", { className: "summary", text: entry.summary })
    ]);
    button.addEventListener("click", function () { openSubject(entry.id); });
    return button;
  }

  function drawTabs() {
    var tabs = $("tabs");
    tabs.replaceChildren();
    state.galleries.galleries.forEach(function (gallery) {
      var tab = el("button", {
        type: "button", role: "tab", "data-gallery": gallery.key,
        "aria-selected": String(gallery.key === state.tab),
        text: gallery.title + " (" + gallery.entries.length + ")"
      });
      tab.addEventListener("click", function () { state.tab = gallery.key; drawGallery(); });
      tabs.appendChild(tab);
    });
    tabs.hidden = false;
  }

  function drawGallery() {
    backButton(null);
    $("heading").textContent = state.galleries.viewer.scheme;
    drawTabs();
    var gallery = state.galleries.galleries.filter(function (g) { return g.key === state.tab; })[0];
    var section = el("section", { className: "gallery", "data-gallery": gallery.key });
    if (!gallery.entries.length) {
      section.appendChild(el("p", { className: "hint", text: "No one in this gallery." }));
    } else {
      section.appendChild(el("div", { className: "grid" }, gallery.entries.map(card)));
    }
    show(section);
  }

  function row(label, value) {
    if (!value) return [];
    return [el("dt", { text: label }), el("dd", { text: value })];
  }

  function noticeLine(n) {
    var stage = n.stage === "exclusion" ? "Exclusion" : "Warning";
    var text = stage + ": " + n.starts_on + " to " + n.ends_on + " (review " + n.review_on + ")";
    if (!n.running) text += " — not in force";
    if (n.served_on) text += ". Served " + n.served_on;
    if (n.appealed) text += ". Appealed";
    var item = el("li", { "data-stage": n.stage, text: text });
    if (n.conditions) item.appendChild(el("div", { className: "summary", text: n.conditions }));
    return item;
  }

  function reportLine(r) {
    var text = "Report #" + r.id + " · " + r.when + " · " + r.category + (r.location ? " · " + r.location : "");
    return el("li", { "data-report-id": String(r.id) }, [
      el("div", { text: text }),
      el("div", { className: "summary", text: r.description })
    ]);
  }

  function drawSubject(subject) {
    $("tabs").hidden = true;
    $("heading").textContent = subject.title;
    var back = el("button", { className: "back", type: "button", text: "‹ Galleries" });
    back.addEventListener("click", drawGallery);
    var details = el("dl", {}, [].concat(
      row("Kind", subject.kind === "known" ? "Known" : "ID sought"),
      row("Also known as", subject.aliases.join(", ")),
      row("Description", subject.description),
      row("Appearance", subject.ethnicity_descriptor),
      row("Last seen", subject.last_seen),
      row("Scheme", subject.scheme)
    ));
    var parts = [
      back,
      el("h2", { text: subject.title }),
      el("div", { className: "photos" }, subject.photos.map(function (src, i) {
        return el("img", { src: src, alt: subject.title + ", photo " + (i + 1), className: "photo" });
      })),
      details,
      el("h3", { text: "Notices" }),
      subject.notices.length
        ? el("ul", { className: "lines notices" }, subject.notices.map(noticeLine))
        : el("p", { className: "summary", text: "No notice." })
    ];
    if (subject.reports) {
      parts.push(el("h3", { text: "Linked reports" }));
      parts.push(el("ul", { className: "lines", id: "reports" }, subject.reports.map(reportLine)));
    }
    show(el("section", { className: "subject", "data-subject-id": String(subject.id) }, parts));
    backButton(drawGallery);
  }

  function openSubject(id) {
    api("subjects/" + id).then(drawSubject, refuse);
  }

  function drawSchemes(body) {
    var select = $("schemes");
    if (body.schemes.length < 2) { select.hidden = true; return; }
    select.replaceChildren.apply(select, body.schemes.map(function (s) {
      var option = el("option", { value: s.slug, text: s.name });
      if (s.slug === body.viewer.slug) option.selected = true;
      return option;
    }));
    select.hidden = false;
    select.onchange = function () { state.scheme = select.value; loadGalleries(); };
  }

  function loadGalleries() {
    return api("galleries").then(function (body) {
      state.galleries = body;
      state.scheme = body.viewer.slug;
      drawSchemes(body);
      var foot = $("foot");
      foot.textContent = "For " + body.viewer.scheme + " members only · do not share · " + body.viewer.reference;
      foot.hidden = false;
      drawGallery();
    }, refuse);
  }

  var launch = launchParams();
  applyTheme(launch.theme);
  state.initData = launch.initData;
  postEvent("web_app_ready");
  postEvent("web_app_expand");
  if (!state.initData) {
    refuse(new Refusal("missing", "Open the gallery from the bot's Gallery button in Telegram."));
  } else {
    loadGalleries();
  }
})();
