// Click-to-load YouTube: nothing is requested from YouTube until the reader asks for it.
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest(".video[data-youtube] .video-link");
  if (!link) return;
  var box = link.parentElement;
  var id = box.getAttribute("data-youtube");
  if (!/^[\w-]{6,20}$/.test(id)) return;
  event.preventDefault();
  var frame = document.createElement("iframe");
  frame.src = "https://www.youtube-nocookie.com/embed/" + id + "?autoplay=1";
  frame.title = link.textContent.trim();
  frame.allow = "accelerometer; autoplay; clipboard-write; encrypted-media; gyroscope; picture-in-picture";
  frame.allowFullscreen = true;
  frame.referrerPolicy = "strict-origin-when-cross-origin";
  box.replaceChild(frame, link);
});

// A table wider than the column scrolls sideways (theme.css): let the keyboard reach it then.
// (Display math that may scroll is made focusable when the site is built.)
function focusScrollingTables() {
  var tables = document.querySelectorAll(".post-body table");
  for (var i = 0; i < tables.length; i++) {
    if (tables[i].scrollWidth > tables[i].clientWidth) tables[i].setAttribute("tabindex", "0");
    else tables[i].removeAttribute("tabindex");
  }
}
focusScrollingTables();
window.addEventListener("resize", focusScrollingTables);
