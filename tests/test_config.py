"""Settings: environment over ``.env``, clear errors, secrets by environment."""

from __future__ import annotations

import pytest
from argon2.profiles import RFC_9106_LOW_MEMORY

from gateway.config import (
    Settings,
    SettingsError,
    load_settings,
    unknown_settings,
    with_jwt_secret,
)
from gateway.credentials import Passwords
from tests.conftest import TEST_ARGON2


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
        ("GATEWAY_ARGON2_TIME_COST", "0"),
        ("GATEWAY_ARGON2_MEMORY_KIB", "7"),
        ("GATEWAY_ARGON2_PARALLELISM", "0"),
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


def test_every_bad_setting_is_reported_at_once_with_the_choices():
    with pytest.raises(SettingsError) as caught:
        load_settings(
            {
                "GATEWAY_ENV": "staging",
                "GATEWAY_GRAPHIQL": "maybe",
                "GATEWAY_PORT": "99999",
                "GATEWAY_LOG_LEVEL": "loud",
                "GATEWAY_DB_NAME": "fine",
            },
            env_file=None,
        )
    assert caught.value.problems == [
        "GATEWAY_ENV: must be one of development, production, not 'staging'",
        "GATEWAY_GRAPHIQL: must be true or false (or 1 or 0), or empty for the default, not 'maybe'",
        "GATEWAY_PORT: Expected `int` <= 65535, not '99999'",
        "GATEWAY_LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not 'LOUD'",
    ]


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("GATEWAY_TRUSTED_PROXIES", "notanip", "'notanip' is not an IP address or network"),
        ("GATEWAY_TRUSTED_PROXIES", "10.0.0.1, 300.1.1.1", "'300.1.1.1' is not an IP"),
        ("GATEWAY_HOST", "bad host!", "must be an IP address or a host name"),
        ("GATEWAY_CORS_ORIGINS", "https://a.io/path", "'https://a.io/path' is not an origin"),
        ("GATEWAY_CORS_ORIGINS", "a.io", "'a.io' is not an origin"),
        ("GATEWAY_MONGODB_URI", "http://db:27017", "must start with mongodb:// or mongodb+srv://"),
        ("GATEWAY_REDIS_URL", "localhost:6379", "must start with redis://"),
    ],
)
def test_addresses_networks_and_urls_are_checked(variable, value, problem):
    with pytest.raises(SettingsError) as caught:
        load_settings({variable: value}, env_file=None)
    [reported] = caught.value.problems
    assert reported.startswith(f"{variable}: {problem}")


def test_good_addresses_and_networks_pass():
    settings = load_settings(
        {
            "GATEWAY_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8, ::1",
            "GATEWAY_HOST": "0.0.0.0",
            "GATEWAY_CORS_ORIGINS": "https://app.example.com, http://localhost:3000",
            "GATEWAY_MONGODB_URI": "mongodb+srv://user:pw@cluster.example.net/db",
            "GATEWAY_REDIS_URL": "rediss://cache:6380/0",
        },
        env_file=None,
    )
    assert settings.trusted_proxies == "127.0.0.1, 10.0.0.0/8, ::1"
    assert load_settings({"GATEWAY_HOST": "gateway.internal"}, env_file=None).host


def test_a_secret_value_is_never_echoed_in_an_error():
    with pytest.raises(SettingsError) as caught:
        load_settings({"GATEWAY_REDIS_URL": "tcp://user:hunter2@cache"}, env_file=None)
    assert "hunter2" not in str(caught.value)


def test_an_unknown_setting_is_named_with_the_closest_known_one(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("GATEWAY_TOKEN_TTLL=60\n")
    warnings = unknown_settings(
        {"GATEWAY_PROT": "9000", "GATEWAY_PORT": "9001", "GATEWAY_TEST_MONGODB_URI": "x"},
        env_file=dotenv,
    )
    assert warnings == [
        "GATEWAY_TOKEN_TTLL is not a setting and is ignored (did you mean GATEWAY_TOKEN_TTL?)",
        "GATEWAY_PROT is not a setting and is ignored (did you mean GATEWAY_PORT?)",
    ]
    assert load_settings({"GATEWAY_PROT": "9000"}, env_file=None).port == 8000


PRODUCTION = {"GATEWAY_ENV": "production", "GATEWAY_JWT_SECRET": "s" * 40}


def _argon2_environ(time_cost: int, memory_kib: int, parallelism: int = 1) -> dict[str, str]:
    return {
        "GATEWAY_ARGON2_TIME_COST": str(time_cost),
        "GATEWAY_ARGON2_MEMORY_KIB": str(memory_kib),
        "GATEWAY_ARGON2_PARALLELISM": str(parallelism),
    }


async def test_production_hashes_with_rfc_9106_low_memory():
    """The defaults are the production parameters, and the hashes made carry them."""
    settings = load_settings(PRODUCTION, env_file=None)
    expected = RFC_9106_LOW_MEMORY
    assert (settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism) == (
        expected.time_cost,
        expected.memory_cost,
        expected.parallelism,
    )
    passwords = Passwords(settings)
    try:
        stored = await passwords.hash("a production password")
        assert stored.startswith(
            f"$argon2id$v=19$m={expected.memory_cost},t={expected.time_cost},p={expected.parallelism}$"
        )
        assert await passwords.verify(stored, "a production password")
        assert not passwords.needs_rehash(stored)
    finally:
        passwords.close()


@pytest.mark.parametrize(
    ("time_cost", "memory_kib"),
    [
        (TEST_ARGON2["argon2_time_cost"], TEST_ARGON2["argon2_memory_kib"]),
        (1, 47103),  # one pass needs 46 MiB
        (2, 19455),  # two need 19 MiB
        (5, 7167),  # five need 7 MiB
        (100, 4096),
    ],
)
def test_production_refuses_argon2_below_owasp(time_cost, memory_kib):
    environ = {**PRODUCTION, **_argon2_environ(time_cost, memory_kib)}
    with pytest.raises(SettingsError, match="below OWASP's argon2id minimums"):
        load_settings(environ, env_file=None)
    development = load_settings(_argon2_environ(time_cost, memory_kib), env_file=None)
    assert (development.argon2_time_cost, development.argon2_memory_kib) == (time_cost, memory_kib)


@pytest.mark.parametrize(("time_cost", "memory_kib"), [(1, 47104), (2, 19456), (5, 7168)])
def test_production_accepts_owasp_minimums(time_cost, memory_kib):
    settings = load_settings(
        {**PRODUCTION, **_argon2_environ(time_cost, memory_kib)}, env_file=None
    )
    assert (settings.argon2_time_cost, settings.argon2_memory_kib) == (time_cost, memory_kib)


def test_argon2_memory_must_cover_every_lane():
    with pytest.raises(SettingsError, match="GATEWAY_ARGON2_MEMORY_KIB must be at least 8 times"):
        load_settings(_argon2_environ(1, 31, parallelism=4), env_file=None)
    assert (
        load_settings(_argon2_environ(1, 32, parallelism=4), env_file=None).argon2_memory_kib == 32
    )


async def test_hashes_made_with_other_parameters_still_verify():
    """A change of parameters locks nobody out; the old hash is flagged for a rehash."""
    old = Passwords(Settings(**TEST_ARGON2))
    new = Passwords(Settings(argon2_time_cost=2, argon2_memory_kib=16, argon2_parallelism=2))
    try:
        stored = await old.hash("kept password")
        assert await new.verify(stored, "kept password")
        assert not await new.verify(stored, "another password")
        assert new.needs_rehash(stored)
        assert not new.needs_rehash(await new.hash("kept password"))
    finally:
        old.close()
        new.close()


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
