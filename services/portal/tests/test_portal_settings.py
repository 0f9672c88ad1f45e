"""Configuration: a missing or unsafe setting stops the portal at start, naming it."""
from __future__ import annotations

import pytest

from ot_portal.settings import load_portal_settings
from portal_testkit import portal_env
from ot_runtime.settings import SettingsError


def env(tmp_path, **changes) -> dict:
    base = portal_env(tmp_path, type("Idp", (), {"issuer": "https://login.example.fi/realms/pohjois-savo"}), 1)
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def test_a_complete_configuration_loads(tmp_path):
    settings = load_portal_settings(env(tmp_path))
    assert settings.redirect_uri == "http://127.0.0.1:8080/auth/callback" and not settings.secure
    assert set(settings.grpc_targets) == {"intake", "experts", "consent", "feedback"}


def test_every_missing_setting_is_named(tmp_path):
    with pytest.raises(SettingsError) as error:
        load_portal_settings(env(tmp_path, OT_OIDC_ISSUER=None, OT_OIDC_CLIENT_SECRET=None,
                                 OT_FEEDBACK_GRPC_TARGET=None, OT_PORTAL_SECRET_KEY="short"))
    for name in ("OT_OIDC_ISSUER", "OT_OIDC_CLIENT_SECRET", "OT_FEEDBACK_GRPC_TARGET", "OT_PORTAL_SECRET_KEY"):
        assert name in str(error.value)


def test_plain_http_is_refused_beyond_loopback(tmp_path):
    with pytest.raises(SettingsError, match="OT_PORTAL_PUBLIC_URL must be https"):
        load_portal_settings(env(tmp_path, OT_PORTAL_PUBLIC_URL="http://ot.pohjois-savo.example"))
    assert load_portal_settings(env(tmp_path, OT_PORTAL_PUBLIC_URL="https://ot.pohjois-savo.example/")).secure


def test_a_public_url_with_a_path_is_refused(tmp_path):
    with pytest.raises(SettingsError, match="OT_PORTAL_PUBLIC_URL must be a scheme and host"):
        load_portal_settings(env(tmp_path, OT_PORTAL_PUBLIC_URL="https://example.fi/portal"))


def test_an_unknown_area_is_refused(tmp_path):
    with pytest.raises(SettingsError, match="OT_TENANT must be one of"):
        load_portal_settings(env(tmp_path, OT_TENANT="uusimaa"))
