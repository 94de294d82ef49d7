// The contract page, enhanced: deciding swaps the page's main part in place and moves to the next pending
// suggestion (no full reload); keys j/k a r m e ? drive it. Without JavaScript the forms post and redirect as before.
(function () {
  "use strict";
  var focused = null;

  function cards() { return Array.prototype.slice.call(document.querySelectorAll(".card[data-suggestion]")); }

  function showInContract(card) {
    document.querySelectorAll("#contract-text .current").forEach(function (m) { m.classList.remove("current"); });
    var mark = document.getElementById("cite-" + card.id);
    var pane = document.getElementById("contract-text");
    if (!mark || !pane) { return; }
    mark.classList.add("current");
    pane.scrollTop = Math.max(0, mark.offsetTop - pane.offsetTop - 60);
  }

  function focusCard(card, scroll) {
    if (!card) { return; }
    if (focused) { focused.classList.remove("focused"); }
    focused = card;
    card.classList.add("focused");
    if (scroll !== false) { card.scrollIntoView({ block: "start" }); }
    showInContract(card);
  }

  function nextPending(after) {
    var all = cards();
    var start = after ? all.indexOf(after) : -1;
    var later = all.slice(start + 1).filter(function (c) { return c.dataset.pending === "1"; });
    return later[0] || all.filter(function (c) { return c.dataset.pending === "1"; })[0] || null;
  }

  // A colleague's decision is never replaced without a confirmation that names them.
  function replacesAColleague(card, action) {
    var by = card.dataset.decidedBy, list = document.getElementById("suggestions");
    if (action === "comment" || !by || !list || by === list.dataset.me) { return false; }
    return !window.confirm(card.id + " was decided by " + by + " (" + card.dataset.decided + "). Replace their decision with '" +
                           action + "'?");
  }

  function submit(form, action) {
    if (replacesAColleague(form.closest(".card"), action)) { return Promise.resolve(); }
    var data = new URLSearchParams(new FormData(form));
    data.set("action", action);
    var decided = form.closest(".card").id;
    document.body.classList.add("saving");
    // getAttribute: the form's buttons are named "action", which shadows form.action
    return fetch(form.getAttribute("action"), { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var main = page.querySelector("main");
        document.body.classList.remove("saving");
        if (!main) { window.location.reload(); return; }
        document.querySelector("main").replaceWith(main);
        document.title = page.title;
        bind();
        var here = document.getElementById(decided);
        var error = document.getElementById("error");
        if (error && here) { showOnCard(here, error.textContent); }
        var stay = error || action === "comment";
        focusCard(stay ? here : (nextPending(here) || here));
      })
      .catch(function () { document.body.classList.remove("saving"); HTMLFormElement.prototype.submit.call(form); });
  }

  // A refusal (409: someone decided it meanwhile; "Not saved") is said on the card the reviewer is looking at, and
  // announced (role=alert), not only at the top of the page ~3,000 px away.
  function showOnCard(card, text) {
    var note = document.createElement("p");
    note.className = "error card-error";
    note.setAttribute("role", "alert");
    note.textContent = text;
    var heading = card.querySelector("h2, h3") || card.firstElementChild;
    if (heading && heading.nextSibling) { card.insertBefore(note, heading.nextSibling); } else { card.appendChild(note); }
  }

  function bind() {
    document.querySelectorAll(".card form").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        var button = event.submitter;
        if (!button || !button.value) { return; }
        event.preventDefault();
        submit(form, button.value);
      });
    });
    cards().forEach(function (card) {
      card.addEventListener("click", function () { focusCard(card, false); });
    });
  }

  function act(action) {
    if (!focused) { return; }
    var form = focused.querySelector("form.decision");
    var button = form && form.querySelector("button[value='" + action + "']");
    if (button) { submit(form, action); }
  }

  function toggleHelp() {
    var help = document.getElementById("keys-help");
    if (help) { help.hidden = !help.hidden; }
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (target.matches && target.matches("input, textarea, select")) {
      if (event.key === "Escape") { target.blur(); }
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && focused && focused.contains(target)) {
        event.preventDefault();
        var own = target.form;
        if (own && own.classList.contains("comment-form")) { submit(own, "comment"); } else { act("modify"); }
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var all = cards();
    var index = focused ? all.indexOf(focused) : -1;
    switch (event.key) {
      case "j": focusCard(all[Math.min(index + 1, all.length - 1)]); break;
      case "k": focusCard(all[Math.max(index - 1, 0)]); break;
      case "a": act("approve"); break;
      case "r": act("reject"); break;
      case "e":  // ask where to: focus the function to escalate to; the Escalate button sends it
        var where = focused && focused.querySelector("form.decision select[name=escalate_to]");
        if (where) { event.preventDefault(); where.closest("details").open = true; where.focus(); }
        break;
      case "m":
        var area = focused && focused.querySelector("form.decision textarea[name=modified_text]");
        if (area) { event.preventDefault(); area.focus(); }
        break;
      case "?": toggleHelp(); break;
      default: return;
    }
  });

  bind();
  var start = window.location.hash ? document.getElementById(window.location.hash.slice(1)) : null;
  focusCard(nextPending(start && start.classList.contains("card") ? start : null) || cards()[0], false);
})();
