// Autosave for the post form: what the editor types in the title, excerpt and body is
// kept in this browser (localStorage) and on the server (blog/autosave.py) a couple of
// seconds after they stop typing, so a crashed tab or an expired session loses nothing.
// When the form opens and a kept copy differs from what it shows, a banner offers it back.
(function () {
    "use strict";

    var DELAY_MS = 2000;
    var FIELDS = ["title", "excerpt", "body"];

    function clock(iso) {
        var when = new Date(iso);
        if (isNaN(when.getTime())) {
            return "earlier";
        }
        return when.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
    }

    function normal(text) {
        // Browsers send line ends as \r\n; the server may keep either.
        return String(text || "").replace(/\r\n?/g, "\n");
    }

    function start() {
        var holder = document.getElementById("autosave");
        var form = holder && holder.closest("form");
        if (!form) {
            return;
        }
        var key = holder.dataset.key;
        var url = holder.dataset.url;
        var version = holder.dataset.version ? Number(holder.dataset.version) : null;
        var inputs = FIELDS.map(function (name) {
            return form.elements.namedItem(name);
        }).filter(function (input) {
            return input && "value" in input;
        });
        if (!inputs.length) {
            return;
        }
        var timer = null;

        // --- Where copies live ------------------------------------------------------

        function current() {
            var copy = {};
            inputs.forEach(function (input) {
                copy[input.name] = input.value;
            });
            return copy;
        }

        function sameText(copy, other) {
            return inputs.every(function (input) {
                return normal(copy[input.name]) === normal(other[input.name]);
            });
        }

        function readLocal() {
            try {
                var copy = JSON.parse(window.localStorage.getItem(key));
                return copy && typeof copy === "object" ? copy : null;
            } catch (error) {
                return null;
            }
        }

        function writeLocal(copy) {
            try {
                window.localStorage.setItem(key, JSON.stringify(copy));
                return true;
            } catch (error) {
                return false;  // storage full or turned off
            }
        }

        function clearLocal() {
            try {
                window.localStorage.removeItem(key);
            } catch (error) {
                // nothing kept, nothing to clear
            }
        }

        function token() {
            var field = form.elements.namedItem("csrfmiddlewaretoken");
            return field ? field.value : "";
        }

        function send(method, data) {
            return window.fetch(url, {
                method: method,
                body: data,
                credentials: "same-origin",
                headers: {"X-CSRFToken": token(), "Accept": "application/json"},
            });
        }

        function readServer() {
            try {
                var saved = JSON.parse(holder.dataset.serverCopy || "null");
                if (!saved) {
                    return null;
                }
                return {
                    title: saved.title,
                    excerpt: saved.excerpt,
                    body: saved.body,
                    baseVersion: saved.base_version,
                    savedAt: saved.saved_at,
                    onServer: true,
                };
            } catch (error) {
                return null;
            }
        }

        // --- What the editor sees ---------------------------------------------------

        var status = document.createElement("p");
        status.className = "autosave-status";
        status.setAttribute("role", "status");
        status.hidden = true;
        var body = form.elements.namedItem("body");
        var row = body && body.closest ? body.closest(".form-row") : null;
        if (row) {
            row.after(status);
        } else {
            form.prepend(status);
        }

        function say(text, trouble) {
            status.textContent = text;
            status.classList.toggle("autosave-trouble", Boolean(trouble));
            status.hidden = false;
        }

        function offer(copy) {
            var banner = document.createElement("div");
            banner.className = "autosave-banner";
            banner.setAttribute("role", "alert");
            var text = document.createElement("p");
            text.textContent = "You have unsaved text from " + clock(copy.savedAt) + ".";
            if (version && copy.baseVersion && copy.baseVersion < version) {
                text.textContent += " It was typed over an older version of this post.";
            }
            var restore = document.createElement("button");
            restore.type = "button";
            restore.className = "button autosave-restore";
            restore.textContent = "Restore it";
            var dismiss = document.createElement("button");
            dismiss.type = "button";
            dismiss.className = "button autosave-dismiss";
            dismiss.textContent = "Dismiss";
            banner.append(text, restore, " ", dismiss);
            form.prepend(banner);

            restore.addEventListener("click", function () {
                inputs.forEach(function (input) {
                    if (typeof copy[input.name] === "string") {
                        input.value = copy[input.name];
                        // markdownx redraws its preview on input.
                        input.dispatchEvent(new Event("input", {bubbles: true}));
                        input.dispatchEvent(new Event("change", {bubbles: true}));
                    }
                });
                banner.remove();
                say("Restored the text from " + clock(copy.savedAt) + ": save the post to keep it.");
                save();
            });
            dismiss.addEventListener("click", function () {
                clearLocal();
                send("DELETE").catch(function () {});
                banner.remove();
            });
        }

        // --- Saving while they type -------------------------------------------------

        function keepHere() {
            var copy = current();
            copy.baseVersion = version;
            copy.savedAt = new Date().toISOString();
            copy.onServer = false;
            return writeLocal(copy) ? copy : null;
        }

        function save() {
            window.clearTimeout(timer);
            timer = null;
            var copy = keepHere();
            say(copy ? "Saved in this browser" : "Not saved: this browser keeps no copies", !copy);
            var data = new URLSearchParams(current());
            data.set("base_version", version || "");
            send("POST", data).then(function (response) {
                if (!response.ok) {
                    throw new Error(response.status);
                }
                return response.json();
            }).then(function (answer) {
                var kept = readLocal();
                if (copy && kept && kept.savedAt === copy.savedAt) {
                    kept.onServer = true;  // the server holds exactly this text
                    writeLocal(kept);
                }
                say("Saved on the server at " + clock(answer.saved_at));
            }).catch(function () {
                say("Server unreachable or session expired: kept in this browser", true);
            });
        }

        inputs.forEach(function (input) {
            input.addEventListener("input", function () {
                window.clearTimeout(timer);
                timer = window.setTimeout(save, DELAY_MS);
            });
        });
        // Leaving (or the tab going to the background) before the delay keeps it here.
        function keepPending() {
            if (timer !== null) {
                window.clearTimeout(timer);
                timer = null;
                keepHere();
            }
        }
        window.addEventListener("pagehide", keepPending);
        document.addEventListener("visibilitychange", function () {
            if (document.hidden) {
                keepPending();
            }
        });
        // Sent: the copy stays here until a form that shows this text opens again, in
        // case the save fails (a refusal, or a session that ended meanwhile).
        form.addEventListener("submit", function () {
            window.clearTimeout(timer);
            timer = null;
            var kept = readLocal();
            if (!(kept && sameText(kept, current()))) {
                keepHere();
            }
        });

        // --- Opening the form ---------------------------------------------------------

        if (holder.hasAttribute("data-refused")) {
            // The form was sent back with what they typed: the copies stay until it saves.
            return;
        }
        var local = readLocal();
        var server = readServer();
        if (local && local.onServer && !server) {
            // The server had this text and let it go: the post was saved (or the copy
            // dismissed) since.
            clearLocal();
            local = null;
        }
        var newest = local;
        if (server && (!local || Date.parse(server.savedAt) > Date.parse(local.savedAt))) {
            newest = server;
        }
        if (!newest) {
            return;
        }
        if (sameText(newest, current())) {
            clearLocal();
            if (server) {
                send("DELETE").catch(function () {});
            }
            return;
        }
        offer(newest);
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
}());
