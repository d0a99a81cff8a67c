"""The light markup: the documented subset becomes tags, everything else stays text."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from twinspace_rt.forums.markup import render

pytestmark = pytest.mark.one_pass  # no database at all


@pytest.mark.parametrize(
    ("source", "html"),
    [
        ("**Ciao** *tutti* _voi_", "<p><strong>Ciao</strong> <em>tutti</em> <em>voi</em></p>"),
        ("one\ntwo\n\nthree", "<p>one<br>two</p><p>three</p>"),
        ("`**not bold** <b>`", "<p><code>**not bold** &lt;b&gt;</code></p>"),
        ("- Tevere\n- **Po**", "<ul><li>Tevere</li><li><strong>Po</strong></li></ul>"),
        ("> Hamlet\n> er dansk", "<blockquote>Hamlet<br>er dansk</blockquote>"),
        (
            "[eTwinning](https://school-education.ec.europa.eu/?a=1&b=2)",
            '<p><a href="https://school-education.ec.europa.eu/?a=1&amp;b=2" '
            'rel="nofollow noopener">eTwinning</a></p>',
        ),
        ("<script>alert('x')</script>", "<p>&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;</p>"),
        ("[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>"),
        (
            '[x](https://a.eu/"onmouseover=alert)',
            '<p><a href="https://a.eu/&quot;onmouseover=alert" rel="nofollow noopener">x</a></p>',
        ),
        ("<img src=x onerror=alert(1)>", "<p>&lt;img src=x onerror=alert(1)&gt;</p>"),
        ("2 * 3 * 4 = 24", "<p>2 * 3 * 4 = 24</p>"),
        ("  \n\n  ", ""),
    ],
)
def test_the_subset_renders_and_everything_else_is_escaped(source: str, html: str) -> None:
    assert render(source) == html


@pytest.mark.parametrize(
    ("source", "html"),
    [
        (
            "[x](https://e.com/*foo*)",
            '<p><a href="https://e.com/*foo*" rel="nofollow noopener">x</a></p>',
        ),
        (
            "[x](https://e.com/_foo_/a_b_c)",
            '<p><a href="https://e.com/_foo_/a_b_c" rel="nofollow noopener">x</a></p>',
        ),
        (
            "[**Po**](https://e.com/**a**_b_) and *after*",
            '<p><a href="https://e.com/**a**_b_" rel="nofollow noopener"><strong>Po</strong></a>'
            " and <em>after</em></p>",
        ),
        (
            "_[x](https://e.com/a_b)_",
            '<p><em><a href="https://e.com/a_b" rel="nofollow noopener">x</a></em></p>',
        ),
        (
            "[x](mailto:classe@scuola.it)",
            '<p><a href="mailto:classe@scuola.it" rel="nofollow noopener">x</a></p>',
        ),
    ],
)
def test_markers_inside_a_url_stay_in_the_url(source: str, html: str) -> None:
    assert render(source) == html


@pytest.mark.parametrize(
    "source",
    [
        "[x](JavaScript:alert(1))",
        "[x](javascript&#58;alert(1))",
        "[x](data:text/html,hello)",
        "[x](vbscript:msgbox)",
        "[x](file:///etc/passwd)",
        "[x](/relative)",
        "[x](ftp://e.com/a)",
    ],
)
def test_only_http_https_and_mailto_make_a_link(source: str) -> None:
    assert "<a" not in render(source)


@pytest.mark.parametrize(
    ("source", "html"),
    [
        ("# Title", "<p># Title</p>"),
        ("1. one\n2. two", "<p>1. one<br>2. two</p>"),
        ("* a\n+ b", "<p>* a<br>+ b</p>"),
        ("text\n---", "<p>text<br>---</p>"),
        (
            "![cat](https://e.com/cat.png)",
            '<p>!<a href="https://e.com/cat.png" rel="nofollow noopener">cat</a></p>',
        ),
        ("<https://e.com>", "<p>&lt;https://e.com&gt;</p>"),
        ("&copy; ~~no~~", "<p>&amp;copy; ~~no~~</p>"),
        ("[x]: https://e.com\n\n[x]", "<p>[x]: https://e.com</p><p>[x]</p>"),
        (
            '[x](https://e.com/ "a title")',
            '<p><a href="https://e.com/" rel="nofollow noopener">x</a></p>',
        ),
        ("\\*not italic\\*", "<p>*not italic*</p>"),
        ("> one\n>\n> two", "<blockquote><p>one</p><p>two</p></blockquote>"),
        ("- a\n  - b", "<ul><li>a<ul><li>b</li></ul></li></ul>"),
    ],
)
def test_markdown_beyond_the_subset_stays_text(source: str, html: str) -> None:
    assert render(source) == html


def test_deep_nesting_keeps_the_text() -> None:
    html = render(">" * 60 + " deep\n\n" + "- " * 60 + "down")
    assert html.count("<blockquote>") < 20 and html.count("<ul>") < 20
    assert "deep" in html and "down" in html


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, attrs))


HOSTILE = [
    "<script>alert(1)</script>",
    "<scr<script>ipt>alert(1)</script>",
    '[x](https://e.com/"><script>alert(1)</script>)',
    "[x](https://e.com/' onmouseover='alert(1))",
    "[<img src=x onerror=alert(1)>](https://e.com)",
    "[x](javascript:alert(1))",
    "[x](java\u200bscript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "`<iframe src=https://e.com>`",
    "> <svg onload=alert(1)>\n- <a href=javascript:alert(1)>x</a>",
    "**<style>*{}</style>**",
    "<!-- x --><![CDATA[ y ]]>",
    "[x](https://e.com/*<b>*)",
]


@pytest.mark.parametrize("source", HOSTILE)
def test_no_script_and_nothing_outside_the_allow_list(source: str) -> None:
    parser = _Tags()
    parser.feed(render(source))
    for tag, attrs in parser.seen:
        assert tag in {"p", "br", "strong", "em", "code", "a", "ul", "li", "blockquote"}
        for name, value in attrs:
            assert (tag, name) in {("a", "href"), ("a", "rel")}
            if name == "href":
                assert value is not None and value.startswith(("http://", "https://", "mailto:"))
