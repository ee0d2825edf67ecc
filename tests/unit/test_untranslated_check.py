"""The journeys' check for English left on a Chinese page (tests/e2e/pages.py) catches a
msgid alone, inside a line, with its placeholders filled, and in a plural; and it leaves
alone Chinese text, names, numbers, and English words that merely contain a short msgid."""

from tests.e2e.pages import PLACEHOLDER, english_in, english_msgids


def test_every_msgid_of_the_catalog_is_looked_for_but_the_few_skipped_ones():
    ids = english_msgids()
    assert len(ids) > 1000
    assert "Approve" in ids and "%(name)s is now a volunteer." in ids
    assert "Time bank" in ids  # the brand too: it is 时间银行 in Chinese
    assert "s" not in ids and "%(hours)s h" not in ids  # one letter: not telling


def test_a_chinese_page_with_english_msgids_is_caught():
    body = "\n".join(
        [
            "活动",
            "Approve",  # a button left in English
            "王秀英 is now a volunteer.",  # a flash with its placeholder filled
            "审核 · Credits waiting for approval · 网格",  # inside a line
            "已签到：1 · 已签退：1",
        ]
    )
    found = english_in([body])
    assert [msgid for _line, msgid in found] == [
        "Approve",
        "%(name)s is now a volunteer.",
        "Credits waiting for approval",
    ]
    assert found[1][0] == "王秀英 is now a volunteer."


def test_the_quick_pass_over_a_line_lets_no_msgid_through():
    """A line is searched only if it may hold English (the search costs about a
    millisecond a character): every 12th msgid, filled in and inside a Chinese line, is
    still caught."""
    sample = sorted(english_msgids())[::12]
    for msgid in sample:
        line = "审核 · " + PLACEHOLDER.sub("王秀英", msgid) + " · 网格"
        assert english_in([line]), msgid


def test_a_clean_chinese_page_and_lookalikes_pass():
    body = "\n".join(
        [
            "您好,王秀英",
            "1小时30分钟 · 15 积分",
            "13700000001 · 101号楼",
            "English",  # the language switch says its own name
            "Inboxes",  # contains "Inbox" but is another word
            "12-345678",
            "h=2.EdVWQuFO&p=2.6k4_O7JHnzZrSGG7meHDKA09Z5zjIcXeVLKhw5Fa-No",  # "No" in a hash
        ]
    )
    assert english_in([body, "时间银行 · timebank"]) == []


def test_the_crawls_latin_word_check_flags_words_and_leaves_codes_and_declared_english():
    from tests.crawl import latin_words, visible_text

    html = """<html><body><h1>需求清单</h1>
      <p>filed for 王** by 上坎网格长</p><p>状态: pending</p>
      <p>兑换码 5-347892 · A-12 · 3号楼 · 二维码（QR）· 下载 CSV</p>
      <p>请用 <code>timebank scheduler</code> 启动</p>
      <details><summary>技术细节</summary>
        <pre lang="en">OperationalError: database is locked</pre></details>
      <input placeholder="unit"><script>var leak = "hidden";</script>
      <a href="http://localhost/merchants/1/profile">http://localhost/merchants/1/profile</a>
    </body></html>"""
    found = {word for word, _line in latin_words(visible_text(html))}
    assert found == {"filed", "for", "by", "pending", "unit"}


def test_the_crawl_flags_ascii_colons_and_commas_after_chinese_only():
    from tests.crawl import ascii_punctuation

    lines = [
        "状态: 已支付",
        "您好, 王秀英",
        "状态：已支付",
        "Status: paid",
        "时间 15:03",
        "退款：顾客退货",
    ]
    assert [(mark, line) for mark, line in ascii_punctuation(lines)] == [
        (":", "状态: 已支付"),
        (",", "您好, 王秀英"),
    ]
