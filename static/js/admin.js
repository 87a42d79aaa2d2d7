// A tabular inline (a suppression's history) wider than the screen scrolls inside its own box:
// the box then takes keyboard focus and is named by its heading, so it can be scrolled without
// a mouse and a screen reader says what it is.
function scrollableInlinesFocusable() {
  document.querySelectorAll('.inline-group[data-inline-type="tabular"]').forEach(function (group) {
    if (group.scrollWidth > group.clientWidth) {
      var heading = group.querySelector("h2");
      group.tabIndex = 0;
      group.setAttribute("role", "region");
      if (heading) { group.setAttribute("aria-label", heading.textContent.trim()); }
    } else if (group.getAttribute("role") === "region") {
      group.removeAttribute("tabindex");
      group.removeAttribute("role");
      group.removeAttribute("aria-label");
    }
  });
}
document.addEventListener("DOMContentLoaded", scrollableInlinesFocusable);
window.addEventListener("resize", scrollableInlinesFocusable);
