"""Join posters (issue 21, finding 7): the first link is made without a warning about old
posters; a new one asks first; an old or unknown poster link gives a page that tells the
resident to ask their community, naming it when known, never a bare 404."""

from tests import factories
from timebank.extensions import db
from timebank.people import operations as people


def text(response) -> str:
    return response.get_data(as_text=True)


def test_the_first_link_warns_of_nothing_and_a_new_one_asks_first(client, district, login):
    organizer = factories.create_member(district["a"], roles=("organizer",))
    db.session.commit()
    login(organizer)
    poster = f"/units/{district['a'].id}/poster"
    first = text(client.get(poster))
    assert "生成入会链接" in first and "重新生成" not in first
    assert "data-confirm" not in first and "海报将失效" not in first and "会失效" not in first
    made = text(client.post(poster, follow_redirects=True))
    assert "入会链接已生成，请打印海报。" in made and "使用旧链接的海报随即失效" not in made
    # now a new link replaces a printed one: the form asks, and the page warns
    assert 'data-confirm="确定重新生成入会链接吗？已经打印的海报将失效' in made
    assert 'id="renew-warning"' in made and "重新生成入会链接" in made
    old = people.current_join_link(district["a"].id).code
    renewed = text(client.post(poster, follow_redirects=True))
    assert "已生成新的入会链接，使用旧链接的海报随即失效。" in renewed
    assert people.current_join_link(district["a"].id).code != old
    client.post("/lang/en")
    assert "Make a new join link? Posters already printed will stop working" in text(
        client.get(poster)
    )


def test_an_old_poster_names_the_community_to_ask(client, district):
    old = people.renew_join_link(district["a"].id, actor=None)
    people.renew_join_link(district["a"].id, actor=None)
    db.session.commit()
    response = client.get(f"/join/{old.code}")
    page = text(response)
    assert response.status_code == 404
    assert "这个入会链接已失效" in page and "请联系上坎社区索取新的海报或链接" in page
    # registering through it says the same, not an error
    posted = client.post(f"/join/{old.code}", data={"name": "王小新", "phone": "13912345678"})
    assert posted.status_code == 404 and "请联系上坎社区" in text(posted)
    client.post("/lang/en")
    assert "Ask 上坎社区 for the new poster or link" in text(client.get(f"/join/{old.code}"))


def test_an_unknown_link_asks_them_to_ask_their_community(client):
    for code in ("nosuchcode", "x" * 300, "%E4%B8%8A"):
        response = client.get(f"/join/{code}")
        assert response.status_code == 404
        assert "请联系您所在的社区索取入会海报或链接" in text(response)
