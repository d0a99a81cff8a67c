"""The light markup: the documented subset becomes tags, everything else stays text."""

from __future__ import annotations

import pytest

from twinspace_rt.forums.markup import render


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
