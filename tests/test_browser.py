"""A real browser (Debian's chromium, driven by Playwright) against the live test server.

Without chromium these tests skip and say how to install it; in CI (CI=true) a browser
that cannot start fails the run instead.
"""

import os
import shutil
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import PostFactory, UserFactory

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API keeps an event loop running in this thread while the browser
    # is open; the ORM calls the tests make meanwhile are still plain synchronous code.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = None
    try:
        from playwright.sync_api import sync_playwright

        playwright = sync_playwright().start()
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
    except Exception as error:  # noqa: BLE001 (any failure to start means no browser)
        message = (
            f"cannot start chromium ({error.__class__.__name__}: {str(error)[:200]}); "
            "install it with: apt-get install chromium"
        )
        if playwright is not None:
            # Its event loop would make every later test look like async code to Django.
            playwright.stop()
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    yield browser
    browser.close()
    playwright.stop()
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def live(browser, live_server, settings):
    settings.DATELINE = {**settings.DATELINE, "LIVE_POLL_SECONDS": 1, "LIVE_MAX_AGE": 0}
    return live_server


@pytest.fixture
def story(live):
    return PostFactory(
        title="Council vote delayed",
        slug="council-vote-delayed",
        is_developing=True,
        published_at=timezone.now() - timedelta(hours=2),
        body="The vote is off.\n\nMore as it develops…",
    )


@pytest.fixture
def editor(live):
    return UserFactory(username="live-editor", is_superuser=True, password_set=True)


def log_in(page, base, username):
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "correct horse battery")
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def test_update_added_in_the_admin_appears_on_an_open_page_without_reload(
    browser, live, story, editor
):
    reader = browser.new_context().new_page()
    reader.goto(f"{live.url}{story.get_absolute_url()}")
    assert reader.locator(".thread[data-live-url]").count() == 1
    reader.evaluate("window.__notReloaded = true")

    admin = browser.new_context().new_page()
    log_in(admin, live.url, editor.username)
    admin.goto(f"{live.url}/admin/blog/post/{story.pk}/change/")
    admin.fill("textarea[name='updates-0-body']", "Fresh from the council: the vote is Thursday.")
    admin.click("input[name='_continue']")
    admin.wait_for_selector(".messagelist .success")
    assert story.updates.count() == 1

    update = reader.locator(".updates > li", has_text="the vote is Thursday")
    update.wait_for(timeout=10_000)
    assert reader.evaluate("window.__notReloaded") is True
    assert "1 new update" in reader.locator(".live-announcer").text_content()

    # Edits and deletions reach the open page on the next poll too.
    saved = story.updates.get()
    saved.body = "Fresh from the council: the vote is Friday."
    saved.save()
    reader.locator(".updates > li", has_text="the vote is Friday").wait_for(timeout=10_000)
    saved.delete()
    wait_until(reader, "document.querySelectorAll('.updates > li').length === 0")


def test_staff_add_an_update_from_the_page_and_closing_stops_polling(browser, live, story, editor):
    page = browser.new_context().new_page()
    log_in(page, live.url, editor.username)
    page.goto(f"{live.url}{story.get_absolute_url()}")
    page.evaluate("window.__notReloaded = true")
    page.fill(".add-update textarea[name='body']", "Posted from the page itself.")
    page.click(".add-update button[type=submit]")
    page.locator(".updates > li", has_text="Posted from the page itself.").wait_for(timeout=10_000)
    assert page.evaluate("window.__notReloaded") is True
    assert page.url.endswith(story.get_absolute_url())

    story.refresh_from_db()
    story.set_developing(False)
    page.locator(".thread-closed").wait_for(timeout=10_000)
    assert "no longer being updated" in page.locator(".thread-closed").text_content()
    assert page.locator(".add-update").is_hidden()


def test_reader_further_down_keeps_their_place_and_gets_a_notice(browser, live, story, editor):
    from tests.factories import UpdateFactory

    for n in range(12):
        UpdateFactory(
            post=story,
            author=editor,
            body=f"Earlier update number {n}.\n\n" + "A long paragraph. " * 60,
            published_at=story.published_at + timedelta(minutes=n),
        )
    page = browser.new_context(viewport={"width": 800, "height": 600}).new_page()
    page.goto(f"{live.url}{story.get_absolute_url()}")
    target = page.locator(".updates > li", has_text="Earlier update number 3.")
    target.scroll_into_view_if_needed()
    before = target.bounding_box()["y"]
    UpdateFactory(post=story, author=editor, body="Breaking news at the top.")
    page.locator(".updates > li", has_text="Breaking news at the top.").wait_for(
        state="attached", timeout=10_000
    )
    page.locator(".live-notice:not([hidden])").wait_for(timeout=5_000)
    assert "1 new update" in page.locator(".live-notice button").text_content()
    assert abs(target.bounding_box()["y"] - before) < 2


def test_polling_slows_down_while_the_tab_is_hidden(browser, live, story):
    page = browser.new_context().new_page()
    polls = []
    page.on(
        "request", lambda request: polls.append(request.url) if "/updates/" in request.url else None
    )
    page.goto(f"{live.url}{story.get_absolute_url()}")
    page.wait_for_timeout(3_500)
    visible_polls = len(polls)
    assert visible_polls >= 2  # every second while visible
    page.evaluate(
        """() => {
            Object.defineProperty(document, "hidden", {get: () => true});
            document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    page.wait_for_timeout(1_500)  # the poll already scheduled may still go out
    polls.clear()
    page.wait_for_timeout(3_500)
    assert polls == []


# --- Content Security Policy: everything works with zero violations --------------------

WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.__csp.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
        + ` at ${event.sourceFile || document.location.pathname}:${event.lineNumber}`);
});
"""


@pytest.fixture
def watched(browser):
    """A page that records every CSP violation: the event, and the console's report of it."""
    context = browser.new_context()
    context.add_init_script(WATCH_CSP)
    yield console_watching_page(context)
    context.close()


def console_watching_page(context):
    """A new page of the context that keeps the console's errors and warnings."""
    page = context.new_page()
    page.console_errors = []
    page.on(
        "console",
        lambda message: (
            page.console_errors.append(message.text)
            if message.type in ("error", "warning")
            else None
        ),
    )
    return page


def wait_until(page, expression, timeout=10.0):
    """Poll a JavaScript expression from outside the page (page.wait_for_function compiles
    its predicate inside the page, which a policy without 'unsafe-eval' rightly refuses)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        page.wait_for_timeout(100)


def violations(page):
    reported = page.evaluate("window.__csp || []")
    console = [text for text in page.console_errors if "Content Security Policy" in text]
    return reported + console


def png_bytes():
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, "PNG")
    return list(buffer.getvalue())


def test_public_pages_and_the_live_thread_run_under_the_csp(watched, live, story, editor):
    from tests.factories import UpdateFactory

    UpdateFactory(post=story, author=editor, body="> Not yet.\n>\n> — Dana Reyes, The Tribune")
    page = watched
    for url in ["/", "/sources/", "/source/dana-reyes/", "/corrections/", "/no-such-page/"]:
        page.goto(f"{live.url}{url}")
        assert violations(page) == [], url
    page.goto(f"{live.url}{story.get_absolute_url()}")
    policy = page.evaluate("document.querySelector('script[type=\"application/ld+json\"]').nonce")
    assert policy  # the JSON-LD block carries this answer's nonce
    UpdateFactory(post=story, author=editor, body="Arrives by polling, under the policy.")
    page.locator(".updates > li", has_text="Arrives by polling").wait_for(timeout=10_000)
    assert violations(page) == []

    # Staff post from the page itself (fetch, CSRF token from the form).
    log_in(page, live.url, editor.username)
    page.goto(f"{live.url}{story.get_absolute_url()}")
    page.fill(".add-update textarea[name='body']", "Posted under the policy.")
    page.click(".add-update button[type=submit]")
    page.locator(".updates > li", has_text="Posted under the policy.").wait_for(timeout=10_000)
    assert violations(page) == []


def test_the_admin_and_the_markdown_editor_run_under_the_csp(watched, live, editor):
    from blog.models import Post
    from tests.factories import CategoryFactory

    CategoryFactory(name="Politics", slug="politics")
    page = watched
    log_in(page, live.url, editor.username)
    for url in ["/admin/", "/admin/blog/post/", "/admin/blog/source/", "/admin/blog/category/"]:
        page.goto(f"{live.url}{url}")
        assert violations(page) == [], url

    page.goto(f"{live.url}/admin/blog/post/add/")
    page.fill("#id_title", "Written under the policy")
    # The category autocomplete (select2, jQuery): open, search, pick.
    page.click(".field-category .select2-selection")
    page.fill(".select2-search__field", "Poli")
    page.locator(".select2-results__option", has_text="Politics").click()
    # markdownx's live preview: typed Markdown comes back rendered.
    body = page.locator("#id_body")
    body.fill("> Nobody has the votes.\n>\n> — Dana Reyes, The Tribune\n\nAnd **more**.")
    body.dispatch_event("keyup")
    page.locator(".markdownx-preview figure.quote figcaption", has_text="Dana Reyes").wait_for(
        timeout=10_000
    )
    # markdownx's image upload: a file dropped on the editor is uploaded and linked.
    page.evaluate(
        """(bytes) => {
            const file = new File([new Uint8Array(bytes)], "photo.png", {type: "image/png"});
            const data = new DataTransfer();
            data.items.add(file);
            const body = document.querySelector("#id_body");
            for (const type of ["dragenter", "dragover", "drop"]) {
                body.dispatchEvent(new DragEvent(type, {dataTransfer: data, bubbles: true}));
            }
        }""",
        png_bytes(),
    )
    wait_until(page, "document.querySelector('#id_body').value.includes('/media/uploads/')")
    page.locator(".markdownx-preview img").wait_for(timeout=10_000)
    # The date and time shortcuts, and the collapsed fieldsets.
    page.locator(".field-published_at a", has_text="Today").first.click()
    page.locator(".field-published_at a", has_text="Now").first.click()
    page.select_option("#id_status", "published")
    page.click("input[name='_continue']")
    page.wait_for_selector(".messagelist .success")
    post = Post.objects.get(title="Written under the policy")
    assert post.category.slug == "politics" and "/media/uploads/" in post.body
    assert violations(page) == []

    page.goto(f"{live.url}{post.get_absolute_url()}")
    page.locator(".post-body img").wait_for()
    assert page.evaluate("document.querySelector('.post-body img').naturalWidth") == 40
    assert violations(page) == []


def test_the_watch_sees_a_violation(watched, live):
    """The two tests above prove something only if a violation would be seen."""
    watched.goto(f"{live.url}/")
    watched.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.__ran = true";
            document.body.append(script);
        }"""
    )
    wait_until(watched, "window.__csp.length > 0", timeout=5)
    assert watched.evaluate("window.__ran === undefined")
    assert any("script-src" in violation for violation in violations(watched))
