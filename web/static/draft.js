// A report form's draft kept in this browser while it is typed, so a lost connection loses nothing.
// Progressive enhancement (the form works without it) and no inline code, for the CSP. The server names the draft
// (form[data-draft]: per user, form and event type), says whether the page is a blank form to restore into
// (data-draft-restore), and a receipt says which draft was filed (data-draft-filed): that draft is deleted, since
// it may hold personal identity numbers. A draft older than a day is deleted unread.
(function () {
  "use strict";
  var PREFIX = "kia-draft:";
  var MAX_AGE_MS = 24 * 60 * 60 * 1000;
  var SKIPPED = { csrf_token: true, type: true, org_unit: true, action: true };

  function storage() {
    try { return window.localStorage; } catch (e) { return null; }   // private mode, storage switched off
  }

  function read(store, name) {
    try {
      var draft = JSON.parse(store.getItem(name) || "null");
      if (draft && Date.now() - draft.saved < MAX_AGE_MS) return draft;
    } catch (e) { /* unreadable: dropped below */ }
    store.removeItem(name);
    return null;
  }

  function forgetAll(store) {
    for (var i = store.length - 1; i >= 0; i--) {
      var name = store.key(i);
      if (name && name.indexOf(PREFIX) === 0) store.removeItem(name);
    }
  }

  function values(form) {
    var data = {};
    new FormData(form).forEach(function (value, name) {
      if (typeof value !== "string" || SKIPPED[name]) return;   // files cannot be kept
      (data[name] = data[name] || []).push(value);
    });
    return data;
  }

  // Person rows the draft has and the blank form lacks: copies of the last row, renumbered.
  function addRows(form, wanted) {
    var section = form.querySelector("#persons");
    var rows = form.querySelectorAll("fieldset.person");
    var count = form.querySelector("input[name='persons-count']");
    if (!section || !rows.length || !count) return;
    var last = rows[rows.length - 1];
    var from = rows.length - 1;
    for (var i = rows.length; i < wanted; i++) {
      var row = last.cloneNode(true);
      row.querySelectorAll(".field-error").forEach(function (p) { p.remove(); });
      row.querySelectorAll("[name], [id], [for], [value], [aria-describedby]").forEach(function (el) {
        ["name", "id", "for", "aria-describedby"].forEach(function (attribute) {
          var text = el.getAttribute(attribute);
          if (text) el.setAttribute(attribute, text.split("[" + from + "]").join("[" + i + "]")
                                                  .split("persons-" + from + "-").join("persons-" + i + "-"));
        });
        if (el.tagName === "BUTTON") el.value = el.value.replace("-" + from, "-" + i);
        el.removeAttribute("aria-invalid");
        if (el.tagName === "INPUT") el.value = "";
        if (el.tagName === "SELECT") el.selectedIndex = 0;
      });
      row.querySelector("legend").textContent = section.dataset.personLegend.replace("{n}", i + 1);
      var remove = row.querySelector("button[value^='remove_person-']");
      if (remove) remove.textContent = section.dataset.removeLabel.replace("{n}", i + 1);
      last.after(row);
      last = row;
    }
    count.value = String(wanted);
  }

  function restore(form, data) {
    addRows(form, parseInt((data["persons-count"] || ["0"])[0], 10) || 0);
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIPPED[el.name] || el.type === "file" || el.name === "persons-count") return;
      var saved = data[el.name] || [];
      if (el.type === "checkbox" || el.type === "radio") el.checked = saved.indexOf(el.value) >= 0;
      else if (el.tagName === "SELECT") {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = saved.indexOf(o.value) >= 0; });
      } else if (saved.length) el.value = saved[0];   // the idempotency key too: a resend is filed once
    });
  }

  function say(status, text) {
    status.hidden = false;
    status.querySelector("p").textContent = text;
  }

  function keep(form, store) {
    var name = form.dataset.draft;
    var status = document.getElementById("draft-status");
    var hint = document.getElementById("draft-hint");
    var waiting = false;
    if (hint) hint.hidden = false;
    var earlier = read(store, name);
    if (earlier && form.dataset.draftRestore === "1") {
      restore(form, earlier.values);
      // Only a report under one's name is filed once whatever happens (its key is stored with it); an anonymous
      // one keeps nothing that could tell a resend from a new report.
      var anonymous = form.dataset.public === "1" || (form.querySelector("#anonymous") || {}).checked;
      say(status, !earlier.sending ? status.dataset.restored
        : anonymous ? status.dataset.unconfirmedAnonymous : status.dataset.unconfirmed);
    }
    function save(sending) {
      store.setItem(name, JSON.stringify({ saved: Date.now(), sending: !!sending, values: values(form) }));
    }
    // A form the server sent back (errors, a person added) is its answer: nothing is waiting for one.
    save(form.dataset.draftRestore === "1" && earlier && earlier.sending);
    form.addEventListener("input", function () { save(false); });
    form.addEventListener("change", function () { save(false); });
    form.addEventListener("submit", function (event) {
      var filing = !event.submitter || event.submitter.value === "file";
      if (!filing) {   // a person added or removed: the server shows the form again, if it can be reached
        save(false);
        if (navigator.onLine === false) { event.preventDefault(); say(status, status.dataset.offlineRows); }
        return;
      }
      save(true);   // if the answer never comes, the next visit says the report may not have arrived
      if (navigator.onLine !== false) return;
      // No connection: keep it here and send it by itself when the connection is back.
      event.preventDefault();
      say(status, status.dataset.offline);
      if (waiting) return;
      waiting = true;
      window.addEventListener("online", function () {
        say(status, status.dataset.sending);
        form.requestSubmit(form.querySelector("button.primary[value='file']"));
      }, { once: true });
    });
  }

  var store = storage();
  if (!store) return;
  document.querySelectorAll("[data-draft-filed]").forEach(function (el) { store.removeItem(el.dataset.draftFiled); });
  document.querySelectorAll("form[data-draft]").forEach(function (form) { keep(form, store); });
  // Signing out leaves nothing of one's reports in the browser for the next person at this computer.
  document.querySelectorAll("form[data-sign-out]").forEach(function (form) {
    form.addEventListener("submit", function () { forgetAll(store); });
  });
  for (var i = store.length - 1; i >= 0; i--) {
    var name = store.key(i);
    if (name && name.indexOf(PREFIX) === 0) read(store, name);   // deletes a draft past its day
  }
}());
