// The live thread of a developing story. The server only sends this script while the
// thread is open. Every few seconds it asks the updates endpoint for the thread (a
// conditional GET: usually a 304), then merges what changed into the page: new updates
// at the top, edited ones replaced, deleted ones removed, keeping the reader's place.
(function () {
  "use strict";

  var thread = document.querySelector(".thread[data-live-url]");
  if (!thread) return;

  var url = thread.dataset.liveUrl;
  var interval = Math.max(1, Number(thread.dataset.liveInterval) || 30) * 1000;
  var hiddenInterval = Math.max(interval * 4, 120000);
  var maxDelay = 600000;
  var notice = thread.querySelector(".live-notice");
  var announcer = thread.querySelector(".live-announcer");
  var form = thread.querySelector("form.add-update");
  var etag = null;
  var timer = null;
  var failures = 0;
  var unseen = 0;
  var stopped = false;

  function list() {
    return thread.querySelector(".thread-body .updates");
  }

  function nextDelay() {
    // Back off on errors, and poll rarely while the tab is hidden.
    var delay = interval * Math.pow(2, failures);
    if (document.hidden) delay = Math.max(delay, hiddenInterval);
    return Math.min(delay, maxDelay);
  }

  function schedule(delay) {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(poll, delay);
  }

  function poll() {
    var headers = { Accept: "text/html" };
    if (etag) headers["If-None-Match"] = etag;
    fetch(url, { headers: headers, cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 304) {
          failures = 0;
          return null;
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        failures = 0;
        etag = response.headers.get("ETag");
        return response.text();
      })
      .then(function (html) {
        if (html) merge(html);
      })
      .catch(function () {
        failures = Math.min(failures + 1, 6);
      })
      .then(function () {
        schedule(nextDelay());
      });
  }

  function firstVisible(items) {
    for (var i = 0; i < items.length; i++) {
      if (items[i].getBoundingClientRect().bottom > 0) return items[i];
    }
    return null;
  }

  function merge(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html").querySelector(".thread-body");
    var body = thread.querySelector(".thread-body");
    var updates = list();
    if (!fresh || !body || !updates) return;

    var readerBelow = updates.getBoundingClientRect().top < 0;
    var anchor = readerBelow ? firstVisible(updates.children) : null;
    var anchorTop = anchor ? anchor.getBoundingClientRect().top : 0;

    var ids = {};
    (fresh.dataset.updateIds || "").split(",").forEach(function (id) {
      if (id) ids[id] = true;
    });
    Array.prototype.slice.call(updates.children).forEach(function (item) {
      if (!ids[item.dataset.updateId] && item !== anchor) item.remove();
      else if (!ids[item.dataset.updateId]) item.hidden = true;
    });

    var added = [];
    var previous = null;
    fresh.querySelectorAll(".updates > li[data-update-id]").forEach(function (item) {
      var existing = updates.querySelector(
        ':scope > li[data-update-id="' + item.dataset.updateId + '"]'
      );
      if (existing && existing.dataset.version === item.dataset.version) {
        previous = existing;
        return;
      }
      var node = document.importNode(item, true);
      if (existing) {
        existing.replaceWith(node);
      } else {
        node.classList.add("update-new");
        if (previous) previous.after(node);
        else updates.prepend(node);
        added.push(node);
      }
      if (window.datelineLocalTime) window.datelineLocalTime(node);
      previous = node;
    });

    if (updates.children.length) {
      var empty = body.querySelector(".thread-empty");
      if (empty) empty.remove();
    }
    if (anchor) {
      // Keep the reader's place: what they were reading stays where it was.
      window.scrollBy(0, anchor.getBoundingClientRect().top - anchorTop);
      if (anchor.hidden) anchor.remove();
    }
    if (added.length) announce(added.length, readerBelow);
    if (fresh.dataset.state === "closed") close(fresh);
  }

  function announce(count, readerBelow) {
    var words = count === 1 ? "1 new update" : count + " new updates";
    if (announcer) announcer.textContent = words + " in this story.";
    if (!readerBelow || !notice) return;
    unseen += count;
    notice.querySelector("button").textContent =
      (unseen === 1 ? "1 new update" : unseen + " new updates") + " ↑";
    notice.hidden = false;
  }

  function close(fresh) {
    stopped = true;
    clearTimeout(timer);
    var closed = fresh.querySelector(".thread-closed");
    var body = thread.querySelector(".thread-body");
    if (closed && !body.querySelector(".thread-closed")) {
      body.appendChild(document.importNode(closed, true));
      if (window.datelineLocalTime) window.datelineLocalTime(body);
    }
    body.dataset.state = "closed";
    if (form) form.hidden = true;
    if (announcer) announcer.textContent = "This story is no longer being updated.";
  }

  if (notice) {
    notice.querySelector("button").addEventListener("click", function () {
      notice.hidden = true;
      unseen = 0;
      thread.scrollIntoView({ behavior: "smooth", block: "start" });
    });
    window.addEventListener(
      "scroll",
      function () {
        var updates = list();
        if (!notice.hidden && updates && updates.getBoundingClientRect().top >= 0) {
          notice.hidden = true;
          unseen = 0;
        }
      },
      { passive: true }
    );
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && !stopped) schedule(0);
  });

  if (form) {
    // Staff publish an update without leaving the page; readers get it on their next poll.
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var status = form.querySelector(".add-update-status");
      var token = form.querySelector("[name=csrfmiddlewaretoken]").value;
      status.textContent = "Publishing…";
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json", "X-CSRFToken": token },
        credentials: "same-origin",
      })
        .then(function (response) {
          return response.json().then(function (data) {
            return { ok: response.ok, data: data };
          });
        })
        .then(function (result) {
          if (result.ok) {
            form.reset();
            status.textContent = "Published.";
            schedule(0);
            return;
          }
          var errors = result.data.errors || {};
          status.textContent = Object.keys(errors)
            .map(function (field) {
              return errors[field].map(function (error) {
                return error.message;
              }).join(" ");
            })
            .join(" ") || "Could not publish the update.";
        })
        .catch(function () {
          status.textContent = "Could not reach the server; the update was not published.";
        });
    });
  }

  schedule(interval);
})();
