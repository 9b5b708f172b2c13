from __future__ import annotations

from commands.mentions import body_with_user_ids


def test_plain_body_is_kept_without_pills() -> None:
    assert body_with_user_ids("!ping", None) == "!ping"
    assert body_with_user_ids("!aide", "<b>!aide</b>") == "!aide"


def test_element_pill_becomes_the_user_id() -> None:
    html = '!projet referent velo <a href="https://matrix.to/#/@alice:example.org">Alice D.</a>'
    assert body_with_user_ids("!projet referent velo Alice D.", html) == (
        "!projet referent velo @alice:example.org")


def test_percent_encoded_pill_and_reply_fallback() -> None:
    html = ('<mx-reply><blockquote>old</blockquote></mx-reply>!rappel '
            '<a href="https://matrix.to/#/%40bob%3Aexample.org">Bob</a> demain')
    assert body_with_user_ids("> old\n\n!rappel Bob demain", html) == (
        "!rappel @bob:example.org demain")


def test_html_in_pills_text_does_not_leak() -> None:
    html = '!x <a href="https://matrix.to/#/@e:x.org"><b>Eve</b> &lt;script&gt;</a> fin'
    assert body_with_user_ids("!x Eve fin", html) == "!x @e:x.org fin"
