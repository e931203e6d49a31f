/* Alarms on every signed-in page (issue 11): reads the alarm stream (Server-Sent Events, GET /api/v1/alarms/stream,
   with the session cookie) and shows an open alarm as a full-screen banner with its instruction (role=alertdialog,
   focus moved to it, ÖVNING for drills, a link to the alarm page, a sound unless silent and if the browser allows),
   hidden again on "all clear". On an alarm's own page it refreshes the live parts (counts, who has not answered,
   chat, checklist) from the server-rendered page. Without JavaScript the start page polls instead. */
(function () {
  "use strict";
  var body = document.body;
  var streamUrl = body.getAttribute("data-alarm-stream");
  if (!streamUrl || typeof window.EventSource === "undefined") { return; }
  var me = parseInt(body.getAttribute("data-user-id"), 10);
  var alarmUrl = body.getAttribute("data-alarm-url") || "/alarms/0";
  var banner = document.getElementById("alarm-banner");
  var status = document.getElementById("alarm-status");
  var page = document.querySelector("[data-alarm-page]");
  var pageAlarm = page ? parseInt(page.getAttribute("data-alarm-page"), 10) : null;
  var lang = (document.documentElement.lang || "sv").slice(0, 2) === "en" ? "en" : "sv";
  var shown = null;        // the alarm id in the banner
  var beforeBanner = null; // the element focused before it opened
  var sounded = {};
  var KEY = "kia-alarm-closed";

  function closedIds() {
    try { return JSON.parse(window.sessionStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function remember(id) {
    try {
      var ids = closedIds(); ids.push(id); window.sessionStorage.setItem(KEY, JSON.stringify(ids.slice(-50)));
    } catch (e) { /* private mode: the banner may come back on the next page */ }
  }
  function part(name) { return banner.querySelector("[data-banner-" + name + "]"); }
  function text(pair) { return pair ? (pair[lang] || pair.sv || "") : ""; }
  function linkTo(id) { return alarmUrl.replace(/\/0$/, "/" + id); }

  function beep() {
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) { return; }
      var ctx = new Ctx();
      if (ctx.state === "suspended" && ctx.resume) { ctx.resume(); }   // refused without a user gesture: silence
      var osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.type = "square"; osc.frequency.value = 880; gain.gain.value = 0.2;
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start();
      for (var i = 1; i < 6; i++) { osc.frequency.setValueAtTime(i % 2 ? 660 : 880, ctx.currentTime + i * 0.4); }
      osc.stop(ctx.currentTime + 2.4);
    } catch (e) { /* the browser does not allow sound now */ }
  }

  function showBanner(alarm) {
    if (!banner || alarm.ended_at) { return; }
    if (alarm.silent && alarm.raised_by && alarm.raised_by.id === me) { return; }   // the sender's screen stays quiet
    if (alarm.id === pageAlarm) { return; }   // its own page shows the instruction already
    if (closedIds().indexOf(alarm.id) !== -1) { return; }
    part("title").textContent = text(alarm.type_name);
    part("unit").textContent = alarm.org_unit_name + " – " + banner.getAttribute("data-raised-by") + " " +
      (alarm.raised_by ? alarm.raised_by.name : "");
    part("instruction").textContent = text(alarm.instruction);
    part("message").textContent = [alarm.location, alarm.message].filter(Boolean).join(" – ");
    part("drill").hidden = !alarm.drill;
    banner.classList.toggle("alarm-banner-drill", !!alarm.drill);
    part("link").setAttribute("href", linkTo(alarm.id));
    if (shown === null) { beforeBanner = document.activeElement; }
    shown = alarm.id;
    banner.hidden = false;
    body.classList.add("alarm-banner-open");
    banner.focus();
    if (!alarm.silent && !sounded[alarm.id]) { sounded[alarm.id] = true; beep(); }
  }

  function hideBanner(id, ended) {
    if (!banner || shown === null || (id !== undefined && id !== shown)) { return; }
    banner.hidden = true;
    body.classList.remove("alarm-banner-open");
    shown = null;
    if (ended && status) { status.textContent = status.getAttribute("data-all-clear"); }
    if (beforeBanner && beforeBanner.focus) { beforeBanner.focus(); }
    beforeBanner = null;
  }

  if (banner) {
    part("close").addEventListener("click", function () { if (shown !== null) { remember(shown); } hideBanner(); });
    // Going to the alarm page: the banner has done its work in this tab.
    part("link").addEventListener("click", function () { if (shown !== null) { remember(shown); } });
    banner.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { if (shown !== null) { remember(shown); } hideBanner(); return; }
      if (event.key === "Tab") {   // keep the focus inside the dialog while it is open
        var items = banner.querySelectorAll("a[href], button");
        var first = items[0], last = items[items.length - 1];
        if (event.shiftKey && (document.activeElement === first || document.activeElement === banner)) {
          event.preventDefault(); last.focus();
        } else if (!event.shiftKey && document.activeElement === last) {
          event.preventDefault(); first.focus();
        }
      }
    });
  }

  var refreshing = false, again = false;
  function refreshPage() {   // the alarm page's live parts, as the server renders them
    if (refreshing) { again = true; return; }
    refreshing = true;
    window.fetch(window.location.pathname, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (old) {
          var now = fresh.getElementById(old.id);
          if (now && old.innerHTML !== now.innerHTML) { old.innerHTML = now.innerHTML; }
        });
        var wasOpen = document.querySelector(".roll-call-buttons, #chat form");
        if (wasOpen && !fresh.querySelector(".roll-call-buttons, #chat form")) {
          // ended: the forms that no longer apply go too
          document.querySelectorAll(".roll-call-buttons, #chat form").forEach(function (f) { f.remove(); });
        }
      })
      .catch(function () { /* offline a moment: the next event refreshes */ })
      .then(function () { refreshing = false; if (again) { again = false; refreshPage(); } });
  }

  function handle(event) {
    var data;
    try { data = JSON.parse(event.data); } catch (e) { return; }
    var alarm = data.alarm;
    if (!alarm) { return; }
    if (event.type === "alarm.ended" || alarm.ended_at) { hideBanner(alarm.id, true); }
    else if (event.type === "alarm.raised" || event.type === "alarm.open") { showBanner(alarm); }
    if (alarm.id === pageAlarm && event.type !== "alarm.open") { refreshPage(); }
  }

  var source = new EventSource(streamUrl, {withCredentials: true});
  ["alarm.open", "alarm.raised", "alarm.roll_call", "alarm.message", "alarm.checklist", "alarm.ended"]
    .forEach(function (kind) { source.addEventListener(kind, handle); });
  body.setAttribute("data-alarm-stream-state", "connecting");
  source.addEventListener("open", function () { body.setAttribute("data-alarm-stream-state", "open"); });
})();
