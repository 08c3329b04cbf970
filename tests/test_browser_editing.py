"""Editing in a real browser: autosave brings typed text back after a closed tab or an
ended session, and two editors of one post see the stale-edit refusal (chromium, as in
tests/test_browser.py, whose fixtures these tests share)."""

import pytest

from blog.models import Autosave, Post
from tests.factories import PostFactory, UserFactory
from tests.test_browser import (  # noqa: F401
    WATCH_CSP,
    browser,
    console_watching_page,
    live,
    log_in,
    violations,
)

TYPED = "Typed in the editor, never saved:\n\n> Nobody has the votes.\n>\n> — Dana Reyes"


@pytest.fixture
def story(live):  # noqa: F811
    return PostFactory(title="Council vote delayed", body="The vote is off.")


def editor_named(username, first_name, last_name):
    return UserFactory(
        username=username,
        first_name=first_name,
        last_name=last_name,
        is_superuser=True,
        password_set=True,
    )


def watched_context(browser):  # noqa: F811
    """A context whose pages record every CSP violation (see tests/test_browser.py)."""
    context = browser.new_context()
    context.add_init_script(WATCH_CSP)
    return context


def change_url(live, post):  # noqa: F811
    return f"{live.url}/admin/blog/post/{post.pk}/change/"


def type_and_wait(page, status):
    page.fill("#id_body", TYPED)
    page.locator(".autosave-status", has_text=status).wait_for(timeout=10_000)


def reopen_and_restore(context, url):
    page = console_watching_page(context)
    page.goto(url)
    banner = page.locator(".autosave-banner")
    banner.wait_for(timeout=10_000)
    assert "You have unsaved text from" in banner.text_content()
    assert page.input_value("#id_body") == "The vote is off."
    page.click(".autosave-restore")
    assert page.input_value("#id_body") == TYPED
    assert page.locator(".autosave-banner").count() == 0
    # markdownx's preview follows the restored text.
    page.locator(".markdownx-preview", has_text="Nobody has the votes.").first.wait_for(
        timeout=10_000
    )
    return page


def test_text_typed_in_a_tab_that_closed_comes_back(browser, live, story):  # noqa: F811
    editor = editor_named("ed", "Ed", "Itor")
    context = watched_context(browser)
    page = console_watching_page(context)
    log_in(page, live.url, editor.username)
    page.goto(change_url(live, story))
    type_and_wait(page, "Saved on the server at")
    assert Autosave.objects.get(user=editor, post=story).body == TYPED
    assert violations(page) == []
    page.close(run_before_unload=False)

    page = reopen_and_restore(context, change_url(live, story))
    assert violations(page) == []
    story.refresh_from_db()
    assert story.body == "The vote is off."  # nothing was saved to the post itself

    # Saving the post clears both copies: reopening offers nothing.
    page.click("input[name='_continue']")
    page.wait_for_selector(".messagelist .success")
    story.refresh_from_db()
    assert story.body.replace("\r\n", "\n") == TYPED
    assert not Autosave.objects.exists()
    page.goto(change_url(live, story))
    page.locator(".autosave-status").wait_for(state="attached")
    assert page.locator(".autosave-banner").count() == 0
    assert violations(page) == []
    context.close()


def test_text_comes_back_from_the_browser_when_the_server_is_unreachable(
    browser,  # noqa: F811
    live,  # noqa: F811
    story,
):
    editor = editor_named("ed", "Ed", "Itor")
    context = watched_context(browser)
    page = console_watching_page(context)
    log_in(page, live.url, editor.username)
    page.route("**/autosave/", lambda route: route.abort())
    page.goto(change_url(live, story))
    type_and_wait(page, "Server unreachable or session expired: kept in this browser")
    assert not Autosave.objects.exists()
    page.close(run_before_unload=False)

    page = reopen_and_restore(context, change_url(live, story))
    assert violations(page) == []
    context.close()


def test_text_comes_back_after_the_session_ended_and_dismiss_forgets_it(
    browser,  # noqa: F811
    live,  # noqa: F811
    story,
):
    editor = editor_named("ed", "Ed", "Itor")
    context = watched_context(browser)
    page = console_watching_page(context)
    log_in(page, live.url, editor.username)
    page.goto(change_url(live, story))
    # The session ends while the form is open (signed out elsewhere, or timed out).
    context.clear_cookies()
    type_and_wait(page, "Server unreachable or session expired: kept in this browser")
    assert not Autosave.objects.exists()
    page.close(run_before_unload=False)

    page = console_watching_page(context)
    log_in(page, live.url, editor.username)
    page.goto(change_url(live, story))
    page.locator(".autosave-banner").wait_for(timeout=10_000)
    page.click(".autosave-dismiss")
    assert page.locator(".autosave-banner").count() == 0
    assert page.input_value("#id_body") == "The vote is off."
    page.reload()
    page.locator(".autosave-status").wait_for(state="attached")
    assert page.locator(".autosave-banner").count() == 0
    assert violations(page) == []
    context.close()


def test_two_editors_of_one_post_the_second_is_refused_and_keeps_their_text(
    browser,  # noqa: F811
    live,  # noqa: F811
    story,
):
    dana = editor_named("dana", "Dana", "Reyes")
    sam = editor_named("sam", "Sam", "Okafor")
    pages = {}
    for user in (dana, sam):
        context = watched_context(browser)
        pages[user.username] = page = console_watching_page(context)
        log_in(page, live.url, user.username)
        page.goto(change_url(live, story))

    first = pages["dana"]
    first.fill("#id_body", "Dana's version: the vote is Thursday.")
    first.click("input[name='_continue']")
    first.wait_for_selector(".messagelist .success")

    second = pages["sam"]
    second.fill("#id_body", "Sam's version: the vote is Friday.")
    second.click("input[name='_continue']")
    refusal = second.locator(".errorlist.nonfield", has_text="changed this post")
    refusal.wait_for(timeout=10_000)
    assert refusal.text_content().startswith("Dana Reyes changed this post at ")
    assert "nothing was saved" in refusal.text_content()
    assert second.input_value("#id_body") == "Sam's version: the vote is Friday."
    # The text is in the form: no offer to restore it, and the copy stays until it saves.
    assert second.locator(".autosave-banner").count() == 0
    assert Post.objects.get().body == "Dana's version: the vote is Thursday."

    # Saving again, on purpose, replaces Dana's version.
    second.click("input[name='_continue']")
    second.wait_for_selector(".messagelist .success")
    assert Post.objects.get().body == "Sam's version: the vote is Friday."
    for page in pages.values():
        assert violations(page) == []
        page.context.close()
