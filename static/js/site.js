// The client's page refreshes its live parts (the email log, the communication preferences and
// the smart forms) by morphing them in place (htmx's idiomorph extension): the elements stay the
// same elements, so the one a reader tabbed to keeps the focus. Whether an email is opened is the
// reader's choice, not the server's: a refresh never opens or closes one.
document.addEventListener("DOMContentLoaded", function () {
  if (!window.Idiomorph) { return; }
  Idiomorph.defaults.callbacks.beforeAttributeUpdated = function (name, element) {
    if (name === "open" && element.localName === "details") { return false; }
  };
});

// What the page says of each live thing (an email's status, the client's consent, a smart
// form's state), by element id. A refresh that changes one is said once, politely, to screen
// readers through the page's aria-live region; the page as first loaded is not.
function liveWords() {
  var words = {};
  document.querySelectorAll("[data-live][id]").forEach(function (element) {
    words[element.id] = element.dataset.live;
  });
  return words;
}

var saidWords = liveWords();
document.addEventListener("htmx:afterSettle", function () {
  var region = document.getElementById("live-news");
  if (!region) { return; }
  var now = liveWords();
  var news = Object.keys(now).filter(function (id) { return saidWords[id] !== now[id]; });
  saidWords = now;
  if (!news.length) { return; }
  region.replaceChildren.apply(region, news.map(function (id) {
    var line = document.createElement("p");
    line.textContent = now[id];
    return line;
  }));
});

// The bell and the email log refresh themselves; not while the page is out of sight. (A filter in
// hx-trigger would need eval, which the Content-Security-Policy forbids.)
document.addEventListener("htmx:beforeRequest", function (event) {
  if (document.visibilityState !== "visible") { event.preventDefault(); }
});

// A link to one email (a notification's "Open …: the email", #email-<id>) opens that email and
// puts the focus on it.
function openNamedEmail() {
  var match = /^#email-([0-9a-f-]+)$/.exec(window.location.hash);
  var details = match && document.querySelector('details[data-email="' + match[1] + '"]');
  if (details) {
    details.open = true;
    details.querySelector("summary").focus();
  }
}
window.addEventListener("load", openNamedEmail);  // after the browser scrolled to the email
window.addEventListener("hashchange", openNamedEmail);
