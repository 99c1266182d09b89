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
  // The player is named after the video (the include's title, else the post's), not after the
  // placeholder's words, and takes the focus the placeholder had, so a keyboard reader stays there.
  frame.title = box.getAttribute("data-title") || link.textContent.trim();
  frame.allow = "accelerometer; autoplay; clipboard-write; encrypted-media; gyroscope; picture-in-picture";
  frame.allowFullscreen = true;
  frame.referrerPolicy = "strict-origin-when-cross-origin";
  box.replaceChildren(frame);  // the note about loading goes too
  frame.focus();
});

// A table or a code block wider than the column scrolls sideways (theme.css): let the keyboard
// reach it then. (Display math that may scroll is made focusable when the site is built.)
function focusScrollingBlocks() {
  var blocks = document.querySelectorAll(".post-body table, .post-body pre");
  for (var i = 0; i < blocks.length; i++) {
    if (blocks[i].scrollWidth > blocks[i].clientWidth) blocks[i].setAttribute("tabindex", "0");
    else blocks[i].removeAttribute("tabindex");
  }
}
focusScrollingBlocks();
window.addEventListener("resize", focusScrollingBlocks);

// Copying a selection that holds typeset math copies each formula as its TeX ($…$, or $$…$$ for
// display math), read from the annotation in its MathML; the rest is copied as the page shows it.
document.addEventListener("copy", function (event) {
  var selection = window.getSelection();
  if (!event.clipboardData || !selection || selection.isCollapsed || !selection.rangeCount) return;
  var range = selection.getRangeAt(0);
  var start = range.commonAncestorContainer;
  var inside = (start.nodeType === 1 ? start : start.parentElement).closest("mjx-container");
  var live = inside ? [inside] : Array.prototype.filter.call(
    document.querySelectorAll("mjx-container"), function (c) { return selection.containsNode(c, true); });
  if (!live.length) return;
  var box = document.createElement("div");
  box.appendChild(inside ? document.createElement("mjx-container") : range.cloneContents());
  box.style.cssText = "position: fixed; left: -9999px; white-space: pre-wrap";
  var copies = box.querySelectorAll("mjx-container");
  for (var i = 0; i < copies.length && i < live.length; i++) {
    var tex = live[i].querySelector('annotation[encoding="application/x-tex"]');
    if (!tex) continue;
    var marks = live[i].getAttribute("display") === "true" ? "$$" : "$";
    copies[i].replaceWith(document.createTextNode(marks + tex.textContent.trim() + marks));
  }
  document.body.appendChild(box);
  event.clipboardData.setData("text/plain", box.innerText);
  document.body.removeChild(box);
  event.preventDefault();
});
