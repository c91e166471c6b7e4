// sitrep serve: reloads this page when the site has been rebuilt.
// Served at /__sitrep/livereload.js by `sitrep serve` only; never part of a build.
(function () {
  "use strict";
  if (!window.EventSource) {
    return;
  }
  var shown = null;
  var source = new EventSource("/__sitrep/events");
  // Each "build" event names the latest build; the first one names the build this page
  // came from. Any other name means the site changed (or serve restarted): reload.
  source.addEventListener("build", function (event) {
    if (shown === null) {
      shown = event.data;
    } else if (event.data !== shown) {
      source.close();
      window.location.reload();
    }
  });
})();
