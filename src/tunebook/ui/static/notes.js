// Adding a note (only rendered with --allow-write): POST with the CSRF token; a 409 conflict is shown, the text kept.
"use strict";
(function () {
  var form = document.getElementById("note-form");
  if (!form) return;
  var status = document.getElementById("note-status"), list = document.getElementById("note-list");
  function addItem(note, newer) {
    var li = list.appendChild(TB.el("li", newer ? {className: "newer"} : {}));
    li.appendChild(TB.el("span", {className: "muted"}, note.at));
    li.appendChild(document.createTextNode(" "));
    li.appendChild(TB.el("span", {className: "note-text"}, note.text));
    var none = document.getElementById("no-notes"); if (none) none.hidden = true;
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    status.textContent = "saving…"; status.className = "";
    var body = new FormData(form);
    fetch("/api/notes", {method: "POST", body: body, headers: {"X-CSRF-Token": body.get("csrf_token")}})
      .then(function (r) { return r.json().then(function (b) { return [r.status, b]; }); })
      .then(function (answer) {
        var code = answer[0], b = answer[1];
        if (code === 201) {
          addItem(b.note, false);
          form.elements.seen.value = b.latest; form.elements.text.value = "";
          status.textContent = "saved"; return;
        }
        status.textContent = b.error || ("HTTP " + code); status.className = "error-message";
        if (code === 409) {  // someone else wrote first: show their notes, keep ours in the box to submit again
          (b.newer || []).forEach(function (n) { addItem(n, true); });
          form.elements.seen.value = b.latest;
        }
      }).catch(function (e) { status.textContent = String(e); status.className = "error-message"; });
  });
})();
