"""With CSRF on, as in production, every POST form a page renders carries its token."""
import re

import pytest

from competency.extensions import db

from . import factories

PAGES = {
    "E0001": ["/", "/assessments", "/training", "/training/credits", "/training/certifications", "/my-model"],
    "S0001": ["/", "/team", "/team/credits", "/mentoring", "/assign"],
    "T0001": ["/catalogue", "/catalogue/1", "/catalogue/new", "/catalogue/1/sessions/new", "/catalogue/1/roster", "/assign",
              "/assign?mode=gap&course=1"],
    "H0001": ["/", "/cycles/", "/cycles/new", "/cycles/1", "/models", "/models/1", "/imports/", "/employees/1/edit",
              "/credits/requirements", "/mentoring", "/employees/5/credits"],
    "A0001": ["/admin/users", "/admin/users/new", "/admin/users/1"],
}


@pytest.mark.parametrize("who", sorted(PAGES))
def test_every_post_form_has_a_csrf_token(seeded, make_app, who):
    csrf_app = make_app(WTF_CSRF_ENABLED=True)
    with csrf_app.app_context():
        client = csrf_app.test_client()
        page = client.get("/login").data.decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post("/login", data={"identifier": who, "password": "Demo@2026", "csrf_token": token})
        if response.headers["Location"] == "/login/code":
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login/code").data.decode()).group(1)
            response = client.post("/login/code", data={"code": factories.totp_code(who), "csrf_token": token})
        assert response.status_code == 302
        for url in PAGES[who]:
            response = client.get(url)
            assert response.status_code == 200, url
            for form in re.findall(r"<form[^>]*method=\"post\"[^>]*>.*?</form>", response.data.decode(), flags=re.S):
                assert re.search(r'name="([\w]+-)?csrf_token"', form), f"{url}: {form[:200]}"
        db.engine.dispose()
