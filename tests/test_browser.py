"""A real browser (Debian's chromium, driven by Playwright) against the live test server.

Without chromium these tests skip and say how to install it; in CI (CI=true) a browser
that cannot start fails the run instead.
"""

import os
import shutil
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
    try:
        from playwright.sync_api import sync_playwright

        playwright = sync_playwright().start()
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
    except Exception as error:  # noqa: BLE001 (any failure to start means no browser)
        message = (
            f"cannot start chromium ({error.__class__.__name__}: {str(error)[:200]}); "
            "install it with: apt-get install chromium"
        )
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
    reader.wait_for_function(
        "document.querySelectorAll('.updates > li').length === 0", timeout=10_000
    )


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
