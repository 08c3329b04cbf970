// Show <time class="local-time"> values in the reader's own time zone. Without
// JavaScript the server's rendering (the site's time zone, named) stays.
(function () {
  "use strict";
  var format = new Intl.DateTimeFormat(undefined, {
    dateStyle: "long",
    timeStyle: "short",
  });

  function localise(root) {
    root.querySelectorAll("time.local-time[datetime]").forEach(function (element) {
      // "+0500" is valid HTML; JavaScript's parser wants "+05:00".
      var value = element.getAttribute("datetime").replace(/([+-]\d\d)(\d\d)$/, "$1:$2");
      var date = new Date(value);
      if (isNaN(date.getTime())) return;
      element.title = element.textContent.trim();
      element.textContent = format.format(date);
    });
  }

  window.datelineLocalTime = localise;
  document.addEventListener("DOMContentLoaded", function () {
    localise(document);
  });
})();
