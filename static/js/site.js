// Keep the emails a reader has opened open while the log refreshes itself.
var openEmails = [];
document.addEventListener("htmx:beforeSwap", function (event) {
  if (event.detail.target.id !== "email-log") { return; }
  openEmails = Array.prototype.map.call(
    event.detail.target.querySelectorAll("details[open][data-email]"),
    function (details) { return details.dataset.email; }
  );
});
document.addEventListener("htmx:afterSwap", function () {
  openEmails.forEach(function (id) {
    var details = document.querySelector('details[data-email="' + id + '"]');
    if (details) { details.open = true; }
  });
});

// The bell and the email log refresh themselves; not while the page is out of sight. (A filter in
// hx-trigger would need eval, which the Content-Security-Policy forbids.)
document.addEventListener("htmx:beforeRequest", function (event) {
  if (document.visibilityState !== "visible") { event.preventDefault(); }
});

// A link to one email (a notification's "Open …: the email", #email-<id>) opens that email.
function openNamedEmail() {
  var match = /^#email-([0-9a-f-]+)$/.exec(window.location.hash);
  var details = match && document.querySelector('details[data-email="' + match[1] + '"]');
  if (details) {
    details.open = true;
    details.querySelector("summary").focus();
  }
}
document.addEventListener("DOMContentLoaded", openNamedEmail);
window.addEventListener("hashchange", openNamedEmail);
