// sitrep default theme: click-to-play embeds and copy buttons for indicators of compromise.
// Loaded only by pages that use them, from this site (CSP `script-src 'self'`). Nothing is
// requested from another site until the reader clicks a video.
(function () {
  "use strict";

  // Players sitrep's shortcodes make; anything else in data-embed-src is ignored.
  var PLAYERS = ["https://www.youtube-nocookie.com/embed/", "https://player.vimeo.com/video/"];

  function play(link) {
    var src = link.getAttribute("data-embed-src") || "";
    var known = PLAYERS.some(function (p) { return src.indexOf(p) === 0; });
    if (!known) return false;
    var frame = document.createElement("iframe");
    frame.className = "embed-frame";
    frame.src = src;
    frame.title = link.getAttribute("data-embed-title") || "Video";
    frame.setAttribute("allow", "autoplay; encrypted-media; picture-in-picture; fullscreen");
    frame.setAttribute("allowfullscreen", "");
    frame.setAttribute("referrerpolicy", "strict-origin-when-cross-origin");
    link.replaceWith(frame);
    frame.focus();
    return true;
  }

  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    var link = event.target.closest && event.target.closest("a[data-embed-src]");
    if (link && play(link)) event.preventDefault();
  });

  // IOC tables: the real value stays out of sight; a button copies it.
  function copyText(text, done) {
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(false); });
      return;
    }
    done(false);
  }

  var tables = document.querySelectorAll("table.ioc-table");
  Array.prototype.forEach.call(tables, function (table) {
    table.classList.add("ioc-js");
    var status = document.createElement("p");
    status.className = "ioc-status visually-hidden";
    status.setAttribute("role", "status");
    table.parentNode.insertBefore(status, table.nextSibling);
    Array.prototype.forEach.call(table.querySelectorAll("td[data-ioc]"), function (cell) {
      var value = cell.getAttribute("data-ioc");
      var shown = cell.querySelector(".ioc-defanged");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "ioc-copy";
      button.textContent = "Copy";
      var label = document.createElement("span");
      label.className = "visually-hidden";
      label.textContent = " " + (shown ? shown.textContent : "indicator");
      button.appendChild(label);
      button.addEventListener("click", function () {
        copyText(value, function (ok) {
          status.textContent = ok ? "Copied " + (shown ? shown.textContent : "the indicator") : "Copying failed: select the value and copy it";
          button.firstChild.textContent = ok ? "Copied" : "Copy";
          if (!ok) {
            table.classList.remove("ioc-js");
          }
        });
      });
      cell.appendChild(document.createTextNode(" "));
      cell.appendChild(button);
    });
  });

  // Copying a selection inside one indicator copies the real value.
  document.addEventListener("copy", function (event) {
    var sel = window.getSelection();
    if (!sel || sel.isCollapsed || !event.clipboardData) return;
    var from = sel.anchorNode && sel.anchorNode.parentElement;
    var to = sel.focusNode && sel.focusNode.parentElement;
    var a = from && from.closest("td[data-ioc]");
    var b = to && to.closest("td[data-ioc]");
    if (a && a === b) {
      event.clipboardData.setData("text/plain", a.getAttribute("data-ioc"));
      event.preventDefault();
    }
  });
})();
