"""Settings: environment over ``.env``, clear errors, secrets by environment."""

from __future__ import annotations

import pytest

from gateway.config import SettingsError, load_settings, with_jwt_secret


def test_defaults():
    settings = load_settings({}, env_file=None)
    assert (settings.env, settings.host, settings.port) == ("development", "127.0.0.1", 8000)
    assert settings.mongodb_uri is None
    assert settings.mongo_driver == "pymongo"


def test_environment_wins_over_dotenv(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "GATEWAY_PORT=9001\nGATEWAY_DB_NAME=fromfile\nGATEWAY_CORS_ORIGINS=https://a.io, https://b.io\n"
    )
    settings = load_settings({"GATEWAY_PORT": "9002", "UNRELATED": "x"}, env_file=dotenv)
    assert settings.port == 9002
    assert settings.db_name == "fromfile"
    assert settings.cors_origins == ("https://a.io", "https://b.io")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("GATEWAY_PORT", "0"),
        ("GATEWAY_PORT", "http"),
        ("GATEWAY_ENV", "staging"),
        ("GATEWAY_MONGO_DRIVER", "x"),
        ("GATEWAY_MAX_UPLOAD_BYTES", "-5"),
        ("GATEWAY_LOG_LEVEL", "loud"),
        ("GATEWAY_DB_NAME", "bad name/"),
    ],
)
def test_bad_values_name_the_variable(variable, value):
    with pytest.raises(SettingsError, match=variable):
        load_settings({variable: value}, env_file=None)


def test_production_refuses_missing_short_or_wildcard():
    with pytest.raises(SettingsError, match="GATEWAY_JWT_SECRET"):
        load_settings({"GATEWAY_ENV": "production"}, env_file=None)
    with pytest.raises(SettingsError, match="at least 32"):
        load_settings({"GATEWAY_ENV": "production", "GATEWAY_JWT_SECRET": "short"}, env_file=None)
    with pytest.raises(SettingsError, match="CORS"):
        load_settings(
            {"GATEWAY_ENV": "prod", "GATEWAY_JWT_SECRET": "s" * 40, "GATEWAY_CORS_ORIGINS": "*"},
            env_file=None,
        )
    settings = load_settings({"GATEWAY_ENV": "prod", "GATEWAY_JWT_SECRET": "s" * 40}, env_file=None)
    assert settings.env == "production"


def test_development_secret_is_generated_once_and_kept(tmp_path, caplog):
    settings = load_settings({"GATEWAY_DATA_DIR": str(tmp_path)}, env_file=None)
    first = with_jwt_secret(settings)
    assert first.jwt_secret
    assert len(first.jwt_secret) >= 32
    assert "GATEWAY_JWT_SECRET is not set" in caplog.text
    assert (tmp_path / "jwt-secret").stat().st_mode & 0o777 == 0o600
    assert with_jwt_secret(settings).jwt_secret == first.jwt_secret


def test_tls_files_come_together_and_must_be_readable(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("certificate")
    key.write_text("key")
    with pytest.raises(SettingsError, match="GATEWAY_TLS_CERT and GATEWAY_TLS_KEY"):
        load_settings({"GATEWAY_TLS_CERT": str(cert)}, env_file=None)
    with pytest.raises(SettingsError, match="GATEWAY_TLS_KEY: cannot read"):
        load_settings(
            {"GATEWAY_TLS_CERT": str(cert), "GATEWAY_TLS_KEY": str(tmp_path / "none")},
            env_file=None,
        )
    settings = load_settings(
        {"GATEWAY_TLS_CERT": str(cert), "GATEWAY_TLS_KEY": str(key), "GATEWAY_TLS_CERT_X": ""},
        env_file=None,
    )
    assert (settings.tls_cert, settings.tls_key) == (str(cert), str(key))
    assert (
        load_settings({"GATEWAY_TLS_CERT": "", "GATEWAY_TLS_KEY": ""}, env_file=None).tls_cert
        is None
    )
